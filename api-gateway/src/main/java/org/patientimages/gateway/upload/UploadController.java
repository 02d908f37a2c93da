package org.patientimages.gateway.upload;


import jakarta.servlet.http.HttpServletRequest;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * {@code POST /v1/patients/{patientId}/images}: streams the {@code file} part into the staging area
 * (computing size and SHA-256 on the way, never holding the file in memory), records the upload through the
 * metadata-service and answers 202. Whatever fails before the answer leaves nothing staged.
 */
@RestController
class UploadController {

    private static final int MAX_METADATA_BYTES = 64 * 1024;
    private static final int MAX_PARTS = 10;
    private static final int MAX_IDEMPOTENCY_KEY = 255;

    private final UploadRecorder recorder;
    private final PatientCheck patientCheck;
    private final StagingArea staging;
    private final UploadProperties properties;
    private final JsonMapper json;
    private final ContentSniffer sniffer;
    private final UploadMetrics metrics;

    UploadController(UploadRecorder recorder, PatientCheck patientCheck, StagingArea staging,
                     UploadProperties properties, JsonMapper json, ContentSniffer sniffer, UploadMetrics metrics) {
        this.patientCheck = patientCheck;
        this.metrics = metrics;
        this.recorder = recorder;
        this.staging = staging;
        this.properties = properties;
        this.json = json;
        this.sniffer = sniffer;
    }

    /** Counted ({@link UploadMetrics}): accepted, rejected by reason, bytes received. */
    @PostMapping("/v1/patients/{patientId}/images")
    ResponseEntity<Map<String, Object>> upload(@PathVariable String patientId,
                                               @RequestHeader(name = "Idempotency-Key", required = false) String idempotencyKey,
                                               HttpServletRequest request) throws IOException {
        try {
            ResponseEntity<Map<String, Object>> accepted = accept(patientId, idempotencyKey, request);
            metrics.accepted();
            return accepted;
        } catch (ApiProblem e) {
            metrics.rejected(e.code());
            throw e;
        }
    }

    private ResponseEntity<Map<String, Object>> accept(String patientId, String idempotencyKey, HttpServletRequest request)
            throws IOException {
        long limit = properties.maxFileSize().toBytes();
        if (!MultipartReader.isMultipart(request.getContentType())) {
            throw new ApiProblem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "MULTIPART_REQUIRED",
                    "Send the upload as multipart/form-data with a part named 'file'.", false);
        }
        if (request.getContentLengthLong() > limit + MAX_METADATA_BYTES) {
            throw tooLarge(limit);
        }
        if (!staging.hasRoomFor(Math.max(0, request.getContentLengthLong()))) {
            throw StagingArea.full();
        }
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > MAX_IDEMPOTENCY_KEY
                || !idempotencyKey.chars().allMatch(c -> c >= 0x21 && c <= 0x7e))) {
            throw ApiProblem.badRequest("INVALID_IDEMPOTENCY_KEY",
                    "Idempotency-Key must be 1-" + MAX_IDEMPOTENCY_KEY + " visible ASCII characters.");
        }
        // 404 before a single byte of the body is read
        patientCheck.require(patientId);
        if (idempotencyKey != null) {
            Optional<JsonNode> earlier = recorder.earlier(patientId, idempotencyKey);
            if (earlier.isPresent()) {
                // a retry: the first answer again, without reading the bytes a second time
                return accepted(earlier.get(), false);
            }
        }

        UUID jobId = UUID.randomUUID();
        UUID imageId = UUID.randomUUID();
        String key = jobId.toString();
        boolean handedOver = false; // to the recorder, which keeps or discards the staged file
        try {
            Received received = receive(request, key, limit);
            metrics.received(received.staged.sizeBytes());
            UploadMetadata meta = received.metadata.validated();
            staging.commit(received.staged);
            handedOver = true;
            JsonNode registered = recorder.record(patientId, jobId, imageId, meta, received.filename,
                    received.contentType, received.staged, idempotencyKey);
            return accepted(registered, !registered.path("replayed").asBoolean());
        } finally {
            if (!handedOver) {
                staging.discard(key);
            }
        }
    }

    private record Received(StagingArea.Staged staged, String contentType, String filename, UploadMetadata metadata) {
    }

    private Received receive(HttpServletRequest request, String key, long limit) throws IOException {
        StagingArea.Staged staged = null;
        String filename = null;
        String[] contentType = {null};
        UploadMetadata meta = UploadMetadata.NONE;
        try {
            var parts = new MultipartReader(request.getContentType(), request.getInputStream(), limit + MAX_METADATA_BYTES);
            int count = 0;
            for (MultipartReader.Part part; (part = parts.next()) != null; ) {
                if (++count > MAX_PARTS) {
                    throw ApiProblem.badRequest("TOO_MANY_PARTS", "An upload has at most " + MAX_PARTS + " parts.");
                }
                InputStream in = part.body();
                switch (part.name() == null ? "" : part.name()) {
                    case "file" -> {
                        if (staged != null) {
                            throw ApiProblem.badRequest("MULTIPLE_FILES", "Send exactly one part named 'file'.");
                        }
                        staged = staging.write(key, in, limit, head -> contentType[0] = sniffer.check(head));
                        filename = FileNames.sanitise(part.filename());
                    }
                    case "metadata" -> meta = parseMetadata(in);
                    default -> {
                        // read past by the next part
                    }
                }
            }
        } catch (StagingArea.TooLarge | MultipartReader.TooLargeException e) {
            throw tooLarge(limit);
        } catch (MultipartReader.MalformedException e) {
            throw ApiProblem.badRequest("MALFORMED_MULTIPART", "The multipart body could not be read: " + e.getMessage() + ".");
        } catch (IOException e) {
            // the client stopped sending: a Content-Length that lies, a slow drip past the read timeout, a reset
            throw new ApiProblem(HttpStatus.REQUEST_TIMEOUT, "REQUEST_TIMEOUT",
                    "The request body arrived too slowly or ended before its declared length; send it again.", true);
        }
        if (staged == null) {
            throw ApiProblem.badRequest("FILE_MISSING", "The upload has no part named 'file'.");
        }
        if (staged.sizeBytes() == 0) {
            throw ApiProblem.badRequest("EMPTY_FILE", "The file is empty.");
        }
        return new Received(staged, contentType[0], filename, meta);
    }

    private UploadMetadata parseMetadata(InputStream in) throws IOException {
        byte[] bytes = in.readNBytes(MAX_METADATA_BYTES + 1);
        if (bytes.length > MAX_METADATA_BYTES) {
            throw UploadMetadata.invalid("the metadata part is larger than " + MAX_METADATA_BYTES + " bytes.");
        }
        try {
            return json.readValue(new String(bytes, StandardCharsets.UTF_8), UploadMetadata.class);
        } catch (JacksonException e) {
            throw UploadMetadata.invalid("the metadata part is not a JSON object with name, description, tags and sha256"
                    + " of the right types.");
        }
    }

    private static ResponseEntity<Map<String, Object>> accepted(JsonNode registered, boolean created) {
        String jobId = registered.path("jobId").asString();
        String imageId = registered.path("imageId").asString();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("jobId", jobId);
        body.put("imageId", imageId);
        body.put("status", registered.path("status").asString("QUEUED"));
        if (registered.hasNonNull("duplicateOf")) {
            body.put("duplicateOf", registered.path("duplicateOf").asString());
        }
        body.put("links", Map.of("job", "/v1/jobs/" + jobId, "image", "/v1/images/" + imageId));
        var response = ResponseEntity.status(HttpStatus.ACCEPTED).location(URI.create("/v1/jobs/" + jobId));
        if (!created) {
            response.header("Idempotent-Replayed", "true");
        }
        return response.body(body);
    }

    static ApiProblem tooLarge(long limit) {
        return new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "FILE_TOO_LARGE",
                "The file is larger than the limit of " + limit + " bytes.", false);
    }
}
