package org.patientimages.gateway.upload;

import jakarta.servlet.http.HttpServletRequest;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.UUID;

/**
 * Resumable uploads, by the tus protocol 1.0.0 (core, creation, creation-with-upload, termination, expiration,
 * checksum): a client creates an upload with its length and metadata, sends the bytes in as many {@code PATCH}
 * requests as it likes, asks with {@code HEAD} how many arrived after a broken connection and goes on from there. Every acknowledged byte is on
 * disk. The request that brings the last byte makes it an upload like any other: staged, recorded, {@code QUEUED};
 * {@code GET /v1/uploads/{id}} then names its job and image.
 */
@RestController
class ResumableUploadController {

    static final String TUS_VERSION = "1.0.0";
    private static final String TUS_RESUMABLE = "Tus-Resumable";
    private static final String OFFSET_STREAM = "application/offset+octet-stream";
    private static final String UPLOAD_CHECKSUM = "Upload-Checksum";
    /** tus's status for bytes that do not match their {@code Upload-Checksum}. */
    private static final int CHECKSUM_MISMATCH = 460;
    private static final int MAX_METADATA_HEADER = 16 * 1024;
    private static final String UPLOAD_CONCAT = "Upload-Concat";
    /** Where uploads are, and so the parts a final upload names. */
    private static final String PARTS_PATH = "/v1/uploads/";
    /** {@code Upload-Concat} of a final upload: the parts' URLs (absolute or paths) after {@code final;}. */
    private static final Pattern FINAL = Pattern.compile("final\\s*;\\s*(\\S.*)");
    /** The most parts one final upload concatenates. */
    private static final int MAX_PARTS = 100;
    /** The API's timestamps: ISO-8601 UTC with milliseconds. */
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final ResumableUploads uploads;
    private final ResumableCompletion completion;
    private final PatientCheck patientCheck;
    private final UploadRecorder recorder;
    private final ContentSniffer sniffer;
    private final UploadProperties properties;
    private final UploadMetrics metrics;

    ResumableUploadController(ResumableUploads uploads, ResumableCompletion completion, PatientCheck patientCheck,
                              UploadRecorder recorder, ContentSniffer sniffer, UploadProperties properties,
                              UploadMetrics metrics) {
        this.recorder = recorder;
        this.uploads = uploads;
        this.completion = completion;
        this.patientCheck = patientCheck;
        this.sniffer = sniffer;
        this.properties = properties;
        this.metrics = metrics;
    }

    /** Creates an upload: {@code Upload-Length} bytes for the patient, described by {@code Upload-Metadata}. */
    @PostMapping("/v1/patients/{patientId}/uploads")
    ResponseEntity<Map<String, Object>> create(@PathVariable String patientId,
                                               @RequestHeader(name = TUS_RESUMABLE, required = false) String tus,
                                               @RequestHeader(name = "Upload-Length", required = false) String uploadLength,
                                               @RequestHeader(name = "Upload-Metadata", required = false) String uploadMetadata,
                                               @RequestHeader(name = UPLOAD_CHECKSUM, required = false) String uploadChecksum,
                                               @RequestHeader(name = UPLOAD_CONCAT, required = false) String uploadConcat,
                                               HttpServletRequest request) throws IOException {
        requireVersion(tus);
        if (uploadConcat != null && uploadConcat.strip().startsWith("final")) {
            return concatenate(patientId, uploadConcat.strip(), uploadLength, uploadMetadata, request);
        }
        boolean partial = uploadConcat != null;
        if (partial && !ResumableUploads.Upload.PARTIAL.equals(uploadConcat.strip())) {
            throw invalidConcat();
        }
        boolean withUpload = isOffsetStream(request);
        ChunkChecksum checksum = withUpload ? ChunkChecksum.parse(uploadChecksum) : null;
        long limit = properties.maxFileSize().toBytes();
        long length = length(uploadLength, limit);
        Map<String, String> declared = metadata(uploadMetadata);
        UploadMetadata meta = meta(declared);
        if (!uploads.hasRoomFor(length)) {
            throw StagingArea.full();
        }
        patientCheck.require(patientId);
        // checked now, not after the last byte; a part's are not its file's
        List<String> tags = partial ? List.of() : recorder.checkTags(meta.tags());
        var upload = newUpload(patientId, length, declared, meta, tags, partial ? ResumableUploads.Upload.PARTIAL : null);
        uploads.create(upload);
        metrics.resumableCreated();
        if (withUpload) {
            upload = firstChunk(upload, checksum, request);
        }
        ResumableUploads.Progress progress = uploads.progress(upload);
        return ResponseEntity.status(HttpStatus.CREATED)
                .location(URI.create("/v1/uploads/" + upload.uploadId()))
                .headers(tusHeaders(upload, progress))
                .body(view(upload, progress));
    }

    /** What this server offers of tus (discovery). */
    @RequestMapping(path = "/v1/patients/{patientId}/uploads", method = RequestMethod.OPTIONS)
    ResponseEntity<Void> discover(@PathVariable String patientId) {
        return ResponseEntity.noContent()
                .header(TUS_RESUMABLE, TUS_VERSION)
                .header("Tus-Version", TUS_VERSION)
                .header("Tus-Extension", "creation,creation-with-upload,termination,expiration,checksum,concatenation")
                .header("Tus-Max-Size", Long.toString(properties.maxFileSize().toBytes()))
                .header("Tus-Checksum-Algorithm", ChunkChecksum.OFFERED)
                .build();
    }

    /** How many bytes of the upload arrived: where to go on from. */
    @RequestMapping(path = "/v1/uploads/{uploadId}", method = RequestMethod.HEAD)
    ResponseEntity<Void> offset(@PathVariable String uploadId,
                                @RequestHeader(name = TUS_RESUMABLE, required = false) String tus) {
        requireVersion(tus);
        ResumableUploads.Upload upload = owned(uploadId);
        return ResponseEntity.ok().headers(tusHeaders(upload)).build();
    }

    /** The upload as JSON: its length, the bytes received, and once accepted its job and image. */
    @GetMapping("/v1/uploads/{uploadId}")
    ResponseEntity<Map<String, Object>> read(@PathVariable String uploadId) {
        ResumableUploads.Upload upload = owned(uploadId);
        ResumableUploads.Progress progress = uploads.progress(upload);
        return ResponseEntity.ok().headers(tusHeaders(upload, progress)).body(view(upload, progress));
    }

    /**
     * Appends the body at {@code Upload-Offset}, which must be the number of bytes received so far. A body that
     * breaks off keeps what arrived. The request that brings the last byte has the upload staged and recorded.
     */
    @RequestMapping(path = "/v1/uploads/{uploadId}", method = RequestMethod.PATCH)
    ResponseEntity<Void> append(@PathVariable String uploadId,
                                @RequestHeader(name = TUS_RESUMABLE, required = false) String tus,
                                @RequestHeader(name = "Upload-Offset", required = false) String uploadOffset,
                                @RequestHeader(name = UPLOAD_CHECKSUM, required = false) String uploadChecksum,
                                HttpServletRequest request) throws IOException {
        requireVersion(tus);
        if (!isOffsetStream(request)) {
            throw new ApiProblem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "OFFSET_STREAM_REQUIRED",
                    "Send the bytes of an upload as " + OFFSET_STREAM + ".", false);
        }
        long offset = offset(uploadOffset);
        ChunkChecksum checksum = ChunkChecksum.parse(uploadChecksum);
        ResumableUploads.Upload upload = owned(uploadId);
        if (upload.accepted()) {
            requireOffset(offset, upload.length());
            return ResponseEntity.noContent().headers(tusHeaders(upload)).build();
        }
        try (ResumableUploads.Chunks chunks = uploads.lock(upload)) {
            requireOffset(offset, chunks.size());
            upload = appendBody(upload, chunks, checksum, request);
            return ResponseEntity.noContent().headers(tusHeaders(upload)).build();
        }
    }

    /**
     * The body of a creation request (creation-with-upload): a small file in one request, or the first chunk of a
     * large one. When it fails the upload is removed, since its client never learnt where it is; except when all
     * its bytes are in and only recording them must wait: that is left to the sweep, and the answer is {@code 201}.
     */
    private ResumableUploads.Upload firstChunk(ResumableUploads.Upload upload, ChunkChecksum checksum,
                                               HttpServletRequest request) throws IOException {
        try (ResumableUploads.Chunks chunks = uploads.lock(upload)) {
            try {
                return appendBody(upload, chunks, checksum, request);
            } catch (ApiProblem e) {
                if (e.retryable() && chunks.size() == upload.length()) {
                    return upload;
                }
                uploads.delete(upload.uploadId());
                throw e;
            }
        }
    }

    /** Appends the request's body at the end of the upload, whose lock the caller holds; its last byte has it accepted. */
    private ResumableUploads.Upload appendBody(ResumableUploads.Upload upload, ResumableUploads.Chunks chunks,
                                               ChunkChecksum checksum, HttpServletRequest request) throws IOException {
        long received = chunks.size();
        long remaining = upload.length() - received;
        if (request.getContentLengthLong() > remaining) {
            throw pastLength(upload);
        }
        if (!uploads.hasRoomFor(Math.max(request.getContentLengthLong(), 0))) {
            throw StagingArea.full();
        }
        ResumableUploads.Chunks.Appended appended = chunks.append(request.getInputStream(), remaining, checksum);
        if (appended.tooLong()) {
            throw pastLength(upload);
        }
        if (appended.mismatch()) {
            throw new ApiProblem(HttpStatusCode.valueOf(CHECKSUM_MISMATCH), "CHECKSUM_MISMATCH", "The bytes do not"
                    + " match the request's Upload-Checksum; none of them are kept: send them again.", true);
        }
        long now = received + appended.bytes();
        if (upload.partial()) { // its head is not its file's, and it waits for the upload that concatenates it
            return upload;
        }
        checkHead(upload, chunks, received, now);
        if (appended.brokenOff()) {
            throw new ApiProblem(HttpStatus.REQUEST_TIMEOUT, "REQUEST_TIMEOUT", "The body ended early; "
                    + now + " bytes of the upload are kept: ask with HEAD and go on from there.", true);
        }
        if (now == upload.length()) {
            return completion.accept(upload);
        }
        return upload;
    }

    /**
     * tus concatenation: a file sent as parts in parallel ({@code Upload-Concat: partial} uploads, each complete)
     * becomes one upload, {@code Upload-Concat: final;<the parts' URLs>}, in their order. Its bytes are copied from
     * the parts, which are then removed, and it is accepted at once like any complete upload: staged, its type
     * decided from its first bytes, recorded with the final request's metadata. A part still being sent, another
     * caller's or another patient's, or not a part, is refused and nothing changes.
     */
    private ResponseEntity<Map<String, Object>> concatenate(String patientId, String concat, String uploadLength,
                                                            String uploadMetadata, HttpServletRequest request)
            throws IOException {
        if (uploadLength != null || request.getContentLengthLong() > 0) {
            throw ApiProblem.badRequest("INVALID_UPLOAD_CONCAT",
                    "A final upload has neither Upload-Length nor a body: its length is its parts'.");
        }
        Map<String, String> declared = metadata(uploadMetadata);
        UploadMetadata meta = meta(declared);
        patientCheck.require(patientId);
        List<ResumableUploads.Upload> parts = new ArrayList<>();
        long length = 0;
        Matcher named = FINAL.matcher(concat);
        String[] urls = named.matches() ? named.group(1).strip().split("\\s+") : new String[0];
        if (urls.length == 0 || urls.length > MAX_PARTS) {
            throw invalidConcat();
        }
        for (String url : urls) {
            int at = url.lastIndexOf(PARTS_PATH);
            if (at < 0) {
                throw invalidConcat();
            }
            ResumableUploads.Upload part = owned(url.substring(at + PARTS_PATH.length()));
            if (!part.partial() || !part.patientId().equals(patientId)
                    || parts.stream().anyMatch(p -> p.uploadId().equals(part.uploadId()))) {
                throw ApiProblem.badRequest("INVALID_UPLOAD_CONCAT", "Upload " + part.uploadId() + " is not a part"
                        + " (Upload-Concat: partial) of this patient's, or is named twice.");
            }
            if (uploads.offset(part) != part.length()) {
                throw ApiProblem.badRequest("PARTIAL_UPLOAD_INCOMPLETE", "Upload " + part.uploadId() + " has "
                        + uploads.offset(part) + " of its " + part.length() + " bytes: finish it first.");
            }
            parts.add(part);
            length += part.length();
        }
        if (length > properties.maxFileSize().toBytes()) {
            throw UploadController.tooLarge(properties.maxFileSize().toBytes());
        }
        if (!uploads.hasRoomFor(length)) {
            throw StagingArea.full();
        }
        List<String> tags = recorder.checkTags(meta.tags());
        var upload = newUpload(patientId, length, declared, meta, tags,
                "final;" + String.join(" ", parts.stream().map(p -> PARTS_PATH + p.uploadId()).toList()));
        uploads.create(upload);
        metrics.resumableCreated();
        try (ResumableUploads.Chunks chunks = uploads.lock(upload)) {
            copyParts(upload, chunks, parts);
            try {
                upload = completion.accept(upload);
            } catch (ApiProblem e) {
                if (!e.retryable()) {
                    throw e; // the upload was removed
                }
                // all its bytes are in: recording them waits for the sweep, or the end sent again
            }
        }
        ResumableUploads.Progress progress = uploads.progress(upload);
        return ResponseEntity.status(HttpStatus.CREATED)
                .location(URI.create(PARTS_PATH + upload.uploadId()))
                .headers(tusHeaders(upload, progress))
                .body(view(upload, progress));
    }

    /**
     * The parts' bytes, in order, into the final upload, whose lock the caller holds; each part locked meanwhile (a
     * part another request holds is {@code 423}), then removed. When that fails, the final upload is removed and the
     * parts stay.
     */
    private void copyParts(ResumableUploads.Upload upload, ResumableUploads.Chunks chunks,
                           List<ResumableUploads.Upload> parts) {
        List<ResumableUploads.Chunks> held = new ArrayList<>();
        try {
            for (ResumableUploads.Upload part : parts) {
                held.add(uploads.lock(part));
                chunks.appendFile(uploads.file(part));
            }
        } catch (ApiProblem e) {
            uploads.delete(upload.uploadId());
            throw e;
        } finally {
            held.forEach(ResumableUploads.Chunks::close);
        }
        parts.forEach(part -> uploads.delete(part.uploadId()));
    }

    /** What {@code Upload-Metadata} declares of the file, checked. */
    private static UploadMetadata meta(Map<String, String> declared) {
        return new UploadMetadata(declared.get("name"), declared.get("description"), tags(declared.get("tags")),
                declared.get("sha256")).validated();
    }

    /** A new upload of the caller's, with a server-generated id. */
    private static ResumableUploads.Upload newUpload(String patientId, long length, Map<String, String> declared,
                                                     UploadMetadata meta, List<String> tags, String concat) {
        return new ResumableUploads.Upload(UUID.randomUUID(), patientId, caller(), length,
                FileNames.sanitise(declared.get("filename")), meta.name(), meta.description(), tags, meta.sha256(),
                Instant.now(), null, concat);
    }

    private static ApiProblem invalidConcat() {
        return ApiProblem.badRequest("INVALID_UPLOAD_CONCAT", "Upload-Concat is 'partial', or 'final;' and the URLs"
                + " of at most " + MAX_PARTS + " parts separated by spaces.");
    }

    /** The same, for clients that cannot send {@code PATCH} (Java's {@code HttpURLConnection}, tus-java-client). */
    @PostMapping(path = "/v1/uploads/{uploadId}", headers = "X-HTTP-Method-Override=PATCH")
    ResponseEntity<Void> appendOverridden(@PathVariable String uploadId,
                                          @RequestHeader(name = TUS_RESUMABLE, required = false) String tus,
                                          @RequestHeader(name = "Upload-Offset", required = false) String uploadOffset,
                                          @RequestHeader(name = UPLOAD_CHECKSUM, required = false) String uploadChecksum,
                                          HttpServletRequest request) throws IOException {
        return append(uploadId, tus, uploadOffset, uploadChecksum, request);
    }

    /** Ends the upload: its bytes are removed (an accepted upload's image stays; it is deleted as an image). */
    @DeleteMapping("/v1/uploads/{uploadId}")
    ResponseEntity<Void> delete(@PathVariable String uploadId,
                                @RequestHeader(name = TUS_RESUMABLE, required = false) String tus) {
        requireVersion(tus);
        ResumableUploads.Upload upload = owned(uploadId);
        if (upload.accepted()) {
            uploads.delete(upload.uploadId());
        } else {
            try (ResumableUploads.Chunks chunks = uploads.lock(upload)) {
                uploads.delete(upload.uploadId());
            }
        }
        return ResponseEntity.noContent().header(TUS_RESUMABLE, TUS_VERSION).build();
    }

    /**
     * Refuses bytes that are not allowed as soon as the first of them are in, not after the whole file: once the
     * sniffing window (or the whole of a shorter upload) has arrived in this request.
     */
    private void checkHead(ResumableUploads.Upload upload, ResumableUploads.Chunks chunks, long before, long now) {
        long window = Math.min(Intake.SNIFF_BYTES, upload.length());
        if (before < window && now >= window) {
            try {
                sniffer.check(chunks.head((int) window));
            } catch (ApiProblem e) {
                metrics.rejected(e.code());
                uploads.delete(upload.uploadId());
                throw e;
            }
        }
    }

    /** The upload, if it exists and is the caller's, for a patient the caller may still see; otherwise 404. */
    private ResumableUploads.Upload owned(String uploadId) {
        ResumableUploads.Upload upload = uploads.find(uploadId).orElseThrow(() -> ResumableUploads.notFound(uploadId));
        if (!Objects.equals(upload.owner(), caller())) {
            throw ResumableUploads.notFound(uploadId);
        }
        patientCheck.require(upload.patientId());
        return upload;
    }

    private static String caller() {
        Authentication caller = SecurityContextHolder.getContext().getAuthentication();
        return caller == null ? "" : caller.getName();
    }

    private HttpHeaders tusHeaders(ResumableUploads.Upload upload) {
        return tusHeaders(upload, uploads.progress(upload));
    }

    private static HttpHeaders tusHeaders(ResumableUploads.Upload upload, ResumableUploads.Progress progress) {
        HttpHeaders headers = new HttpHeaders();
        headers.set(TUS_RESUMABLE, TUS_VERSION);
        headers.set("Upload-Offset", Long.toString(progress.offset()));
        headers.set("Upload-Length", Long.toString(upload.length()));
        headers.set("Upload-Expires", DateTimeFormatter.RFC_1123_DATE_TIME.format(
                progress.expiresAt().atOffset(ZoneOffset.UTC)));
        headers.setCacheControl("no-store");
        if (upload.concat() != null) {
            headers.set(UPLOAD_CONCAT, upload.concat());
        }
        if (upload.accepted()) {
            String jobId = upload.registered().path("jobId").asString();
            String imageId = upload.registered().path("imageId").asString();
            headers.add(HttpHeaders.LINK, "</v1/jobs/" + jobId + ">; rel=\"job\"");
            headers.add(HttpHeaders.LINK, "</v1/images/" + imageId + ">; rel=\"image\"");
        }
        return headers;
    }

    private static Map<String, Object> view(ResumableUploads.Upload upload, ResumableUploads.Progress progress) {
        long offset = progress.offset();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uploadId", upload.uploadId().toString());
        body.put("patientId", upload.patientId());
        body.put("length", upload.length());
        body.put("offset", offset);
        body.put("status", upload.accepted() ? "ACCEPTED" : offset == upload.length() ? "RECEIVED" : "RECEIVING");
        if (upload.concat() != null) {
            body.put("concat", upload.concat());
        }
        body.put("createdAt", TIMESTAMP.format(upload.createdAt()));
        body.put("expiresAt", TIMESTAMP.format(progress.expiresAt()));
        Map<String, String> links = new LinkedHashMap<>();
        links.put("self", "/v1/uploads/" + upload.uploadId());
        if (upload.accepted()) {
            JsonNode registered = upload.registered();
            body.put("jobId", registered.path("jobId").asString());
            body.put("imageId", registered.path("imageId").asString());
            if (registered.hasNonNull("duplicateOf")) {
                body.put("duplicateOf", registered.path("duplicateOf").asString());
            }
            links.put("job", "/v1/jobs/" + registered.path("jobId").asString());
            links.put("image", "/v1/images/" + registered.path("imageId").asString());
        }
        body.put("links", links);
        return body;
    }

    private static boolean isOffsetStream(HttpServletRequest request) {
        return request.getContentType() != null
                && request.getContentType().toLowerCase(Locale.ROOT).startsWith(OFFSET_STREAM);
    }

    private static void requireVersion(String tus) {
        if (tus != null && !TUS_VERSION.equals(tus.strip())) {
            throw new ApiProblem(HttpStatus.PRECONDITION_FAILED, "TUS_VERSION_UNSUPPORTED",
                    "This server speaks tus " + TUS_VERSION + " (Tus-Resumable), not " + tus + ".", false);
        }
    }

    private static long length(String header, long limit) {
        if (header == null) {
            throw ApiProblem.badRequest("UPLOAD_LENGTH_REQUIRED",
                    "Create an upload with its length in bytes in Upload-Length (deferred lengths are not supported).");
        }
        long length = number(header, "INVALID_UPLOAD_LENGTH", "Upload-Length");
        if (length == 0) {
            throw ApiProblem.badRequest("EMPTY_FILE", "The file is empty.");
        }
        if (length > limit) {
            throw UploadController.tooLarge(limit);
        }
        return length;
    }

    private static long offset(String header) {
        if (header == null) {
            throw ApiProblem.badRequest("UPLOAD_OFFSET_REQUIRED", "Send the offset the bytes start at in Upload-Offset.");
        }
        return number(header, "INVALID_UPLOAD_OFFSET", "Upload-Offset");
    }

    private static long number(String header, String code, String name) {
        try {
            long value = Long.parseLong(header.strip());
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw ApiProblem.badRequest(code, name + " must be a non-negative whole number of bytes.");
    }

    private static void requireOffset(long offset, long received) {
        if (offset != received) {
            throw new ApiProblem(HttpStatus.CONFLICT, "OFFSET_MISMATCH", "The upload has " + received
                    + " bytes, the request's Upload-Offset is " + offset + ": ask with HEAD and go on from there.", false);
        }
    }

    private static ApiProblem pastLength(ResumableUploads.Upload upload) {
        return new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "UPLOAD_LENGTH_EXCEEDED",
                "The bytes go past the upload's declared length of " + upload.length() + "; none of them are kept.", false);
    }

    /**
     * {@code Upload-Metadata}: comma-separated pairs of a key and its value in Base64. Known keys: filename, name,
     * description, tags (comma-separated), sha256; others (such as tus clients' filetype) are ignored: the type is
     * decided from the bytes.
     */
    static Map<String, String> metadata(String header) {
        Map<String, String> values = new HashMap<>();
        if (header == null || header.isBlank()) {
            return values;
        }
        if (header.length() > MAX_METADATA_HEADER) {
            throw UploadMetadata.invalid("Upload-Metadata is longer than " + MAX_METADATA_HEADER + " characters.");
        }
        for (String pair : header.split(",")) {
            String[] keyValue = pair.strip().split(" ", 2);
            String key = keyValue[0];
            if (key.isEmpty() || values.containsKey(key)) {
                throw UploadMetadata.invalid("Upload-Metadata must be comma-separated pairs of a key, given once, and"
                        + " its value in Base64.");
            }
            try {
                values.put(key, keyValue.length == 1 ? "" : new String(Base64.getDecoder().decode(keyValue[1].strip()),
                        StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw UploadMetadata.invalid("the value of '" + key.replaceAll("[^A-Za-z0-9_.-]", "?")
                        + "' in Upload-Metadata is not Base64.");
            }
        }
        return values;
    }

    private static List<String> tags(String value) {
        List<String> tags = new ArrayList<>();
        if (value != null) {
            Arrays.stream(value.split(",")).map(String::strip).filter(t -> !t.isEmpty()).forEach(tags::add);
        }
        return tags;
    }
}
