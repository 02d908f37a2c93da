package org.patientimages.gateway.upload;


import jakarta.servlet.http.HttpServletRequest;
import org.patientimages.gateway.audit.AuditContext;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.ToIntFunction;

/**
 * {@code POST /v1/patients/{patientId}/images}: streams the {@code file} part into the staging area
 * (computing size and SHA-256 on the way, never holding the file in memory), records the upload through the
 * metadata-service and answers 202. Whatever fails before the answer leaves nothing staged. {@code …/images/archive}
 * does the same for each file of a ZIP archive.
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
    private final PatientIdentifiers patientIdentifiers;

    UploadController(UploadRecorder recorder, PatientCheck patientCheck, StagingArea staging,
                     UploadProperties properties, JsonMapper json, ContentSniffer sniffer, UploadMetrics metrics,
                     PatientIdentifiers patientIdentifiers) {
        this.patientCheck = patientCheck;
        this.patientIdentifiers = patientIdentifiers;
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
        return counted(() -> accept(patientId, idempotencyKey, request), body -> 1);
    }

    private interface Acceptance {
        ResponseEntity<Map<String, Object>> accept() throws IOException;
    }

    /** The answer, counted: every upload it accepted ({@code uploads}: how many its body names), or its refusal. */
    private ResponseEntity<Map<String, Object>> counted(Acceptance acceptance,
                                                        ToIntFunction<Map<String, Object>> uploads) throws IOException {
        try {
            ResponseEntity<Map<String, Object>> accepted = acceptance.accept();
            metrics.accepted(uploads.applyAsInt(accepted.getBody()));
            return accepted;
        } catch (ApiProblem e) {
            metrics.rejected(e.code());
            throw e;
        }
    }

    private ResponseEntity<Map<String, Object>> accept(String patientId, String idempotencyKey, HttpServletRequest request)
            throws IOException {
        long limit = properties.maxFileSize().toBytes();
        checkBeforeReading(patientId, idempotencyKey, request, limit, MAX_IDEMPOTENCY_KEY);
        if (idempotencyKey != null) {
            Optional<JsonNode> earlier = recorder.earlier(patientId, idempotencyKey);
            if (earlier.isPresent()) {
                // a retry: the first answer again, without reading the bytes a second time
                return accepted(earlier.get(), false);
            }
        }
        return acceptNew(patientId, idempotencyKey, request, limit);
    }

    /**
     * {@code POST /v1/patients/{patientId}/images/archive}: a ZIP archive whose files become images of the patient,
     * one job each, all of them or none: a file of a refused type, too many files, their bytes together past the
     * limit or an archive that cannot be read refuse it whole and leave nothing staged. The {@code metadata} part's
     * name, description and tags go to every file; its {@code sha256} is the archive's.
     */
    @PostMapping("/v1/patients/{patientId}/images/archive")
    ResponseEntity<Map<String, Object>> uploadArchive(@PathVariable String patientId,
                                                      @RequestHeader(name = "Idempotency-Key", required = false)
                                                      String idempotencyKey,
                                                      HttpServletRequest request) throws IOException {
        return counted(() -> acceptArchive(patientId, idempotencyKey, request),
                body -> ((List<?>) body.get("items")).size());
    }

    private ResponseEntity<Map<String, Object>> acceptArchive(String patientId, String idempotencyKey,
                                                              HttpServletRequest request) throws IOException {
        long limit = properties.maxFileSize().toBytes();
        // each file's key is <key>#<n>, within the same bound as any key
        checkBeforeReading(patientId, idempotencyKey, request, limit,
                MAX_IDEMPOTENCY_KEY - UploadRecorder.batchKey("", properties.maxArchiveFiles() - 1).length());
        if (idempotencyKey != null) {
            Optional<List<JsonNode>> earlier = recorder.earlierArchive(patientId, idempotencyKey);
            if (earlier.isPresent()) {
                return acceptedArchive(earlier.get(), false);
            }
        }
        ArchiveUnpacker unpacker = new ArchiveUnpacker(staging, sniffer, limit, properties.maxArchiveFiles());
        boolean handedOver = false; // to the recorder, which keeps or discards the staged files
        try {
            Received<ArchiveUnpacker.Unpacked> received = receive(request, limit, (in, filename) -> unpacker.unpack(in));
            UploadMetadata meta = received.metadata().validated();
            ArchiveUnpacker.Unpacked archive = received.file();
            if (meta.sha256() != null && !meta.sha256().equals(archive.sha256())) {
                throw new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, "CHECKSUM_MISMATCH", "The archive's SHA-256 is "
                        + archive.sha256() + ", not the declared " + meta.sha256() + "; nothing of it is kept.", false);
            }
            for (UploadRecorder.File file : archive.files()) {
                staging.commit(file.staged());
                metrics.received(file.staged().sizeBytes());
            }
            handedOver = true;
            List<JsonNode> registered = recorder.recordAll(patientId,
                    new UploadMetadata(meta.name(), meta.description(), meta.tags(), null), archive.files(),
                    idempotencyKey);
            return acceptedArchive(registered, !registered.get(0).path("replayed").asBoolean());
        } finally {
            if (!handedOver) {
                unpacker.keys().forEach(staging::discard);
            }
        }
    }

    /**
     * {@code POST /v1/patients/{patientId}/dicomweb/studies}: a DICOMweb store (STOW-RS, PS3.18 §10.5), a
     * {@code multipart/related} body of {@code application/dicom} parts, each a DICOM file that becomes an image of
     * the patient with a job of its own, all of them or none, as an archive's files do. The answer is the standard
     * one, {@code application/dicom+json} with a Referenced SOP Sequence item for each instance (its SOP class and
     * instance as the file's meta information names them), once every instance is accepted: staged, forced to disk
     * and recorded, never to be lost; the workers store them as they do every upload.
     */
    @PostMapping("/v1/patients/{patientId}/dicomweb/studies")
    ResponseEntity<Map<String, Object>> storeInstances(@PathVariable String patientId, HttpServletRequest request)
            throws IOException {
        return counted(() -> acceptInstances(patientId, request), StoredInstances::count);
    }

    /**
     * {@code POST /v1/dicomweb/studies}: the same store at the service's root, where each instance becomes an image
     * of the patient whose identifier is its Patient ID (0010,0020), of those the caller may see: what a modality or
     * a PACS, which knows a person by the Patient ID in their files, sends to. All or none, several patients too.
     */
    @PostMapping("/v1/dicomweb/studies")
    ResponseEntity<Map<String, Object>> storeInstances(HttpServletRequest request) throws IOException {
        return counted(() -> acceptInstances(null, request), StoredInstances::count);
    }

    /** {@code patientId}: whose the instances are; null at the service's root, where each file's Patient ID says. */
    private ResponseEntity<Map<String, Object>> acceptInstances(String patientId, HttpServletRequest request)
            throws IOException {
        StoredInstances.requireDicomParts(request.getContentType());
        long limit = properties.maxFileSize().toBytes();
        checkBeforeReading(patientId, null, request, limit, MAX_IDEMPOTENCY_KEY);
        List<String> filedTo = new ArrayList<>(); // at the service's root: each file's patient, by its Patient ID
        Map<String, PatientIdentifiers.Found> known = new LinkedHashMap<>(); // the patients of the Patient IDs seen
        int max = properties.maxArchiveFiles();
        StagedFiles staged = new StagedFiles(staging, limit, max, new StagedFiles.Wording("The instances",
                "TOO_MANY_INSTANCES", "A store request holds at most " + max + " instances."));
        List<DicomFileMeta> instances = new ArrayList<>();
        boolean handedOver = false; // to the recorder, which keeps or discards the staged files
        try {
            try {
                var parts = new MultipartReader(request.getContentType(), request.getInputStream(),
                        limit + MAX_METADATA_BYTES);
                for (MultipartReader.Part part; (part = parts.next()) != null; ) {
                    String label = "Part " + (instances.size() + 1);
                    StoredInstances.requireDicom(label, part.contentType());
                    DicomFileMeta[] meta = {null};
                    LeadingBytes leading = patientId == null
                            ? new LeadingBytes(part.body(), StoredInstances.PATIENT_ID_WINDOW) : null;
                    staged.stage(leading == null ? part.body() : leading, label, null, -1, head -> {
                        String type = sniffer.check(head);
                        meta[0] = StoredInstances.meta(type, head);
                        return type;
                    });
                    instances.add(meta[0]);
                    if (leading != null) {
                        filedTo.add(patientOf(label, StoredInstances.patient(label, leading), known));
                    }
                }
            } catch (IOException e) {
                throw unreadable(e, limit);
            }
            if (instances.isEmpty()) {
                throw ApiProblem.badRequest("NO_INSTANCES", "The store request holds no application/dicom part.");
            }
            List<UploadRecorder.File> files = new ArrayList<>();
            for (int i = 0; i < instances.size(); i++) {
                UploadRecorder.File file = staged.files().get(i);
                staging.commit(file.staged());
                metrics.received(file.staged().sizeBytes());
                // a part has no file name: the instance's UID is what names a DICOM file
                files.add(new UploadRecorder.File(file.jobId(), file.imageId(), instances.get(i).sopInstanceUid()
                        + ".dcm", file.contentType(), file.staged()));
            }
            if (patientId == null) {
                List<String> found = known.values().stream().map(PatientIdentifiers.Found::patientId).toList();
                AuditContext.notePatient(found.get(0));
                AuditContext.noteRelatedPatient(found.size() > 1 ? found.get(1) : null);
            }
            List<String> patients = patientId != null ? Collections.nCopies(files.size(), patientId) : filedTo;
            handedOver = true;
            recorder.recordAll(patients, UploadMetadata.NONE, files, null);
            return StoredInstances.answer(instances);
        } finally {
            if (!handedOver) {
                staged.keys().forEach(staging::discard);
            }
        }
    }

    /**
     * The patient of an instance stored at the service's root, whom its file names: the one whose identifier is its
     * Patient ID, of those the caller may see ({@code known}: those found for this request so far), or {@code 422
     * UNKNOWN_PATIENT_ID}; {@code 422 PATIENT_MISMATCH} when the file's birth date is not that patient's. As soon as
     * the part is read.
     */
    private String patientOf(String label, DicomFileMeta.Patient named, Map<String, PatientIdentifiers.Found> known) {
        if (named.id().isEmpty()) {
            throw StoredInstances.unknownPatient(label + " has no Patient ID (0010,0020)");
        }
        PatientIdentifiers.Found patient = known.get(named.id());
        if (patient == null) {
            patient = patientIdentifiers.patientOf(named.id()).orElseThrow(() -> StoredInstances.unknownPatient(
                    label + ": its Patient ID (0010,0020) is no patient's that you may see"));
            known.put(named.id(), patient);
        }
        if (StoredInstances.contradicts(named.birthDate(), patient.birthDate())) {
            throw StoredInstances.mismatchedPatient(label);
        }
        return patient.patientId();
    }

    /** What every upload is checked for before a byte of its body is read; {@code maxKey}: its key's longest. */
    private void checkBeforeReading(String patientId, String idempotencyKey, HttpServletRequest request, long limit,
                                    int maxKey) {
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
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > maxKey
                || !idempotencyKey.chars().allMatch(c -> c >= 0x21 && c <= 0x7e))) {
            throw ApiProblem.badRequest("INVALID_IDEMPOTENCY_KEY",
                    "Idempotency-Key must be 1-" + maxKey + " visible ASCII characters.");
        }
        // 404 before a single byte of the body is read (at the service's root the files name their patients)
        if (patientId != null) {
            patientCheck.require(patientId);
        }
    }

    private ResponseEntity<Map<String, Object>> acceptNew(String patientId, String idempotencyKey,
                                                          HttpServletRequest request, long limit) throws IOException {
        UUID jobId = UUID.randomUUID();
        UUID imageId = UUID.randomUUID();
        String key = jobId.toString();
        boolean handedOver = false; // to the recorder, which keeps or discards the staged file
        try {
            Received<UploadRecorder.File> received = receive(request, limit, (in, filename) -> {
                String[] contentType = {null};
                StagingArea.Staged staged = staging.write(key, in, limit, head -> contentType[0] = sniffer.check(head));
                return new UploadRecorder.File(jobId, imageId, FileNames.sanitise(filename), contentType[0], staged);
            });
            UploadRecorder.File file = received.file();
            if (file.staged().sizeBytes() == 0) {
                throw ApiProblem.badRequest("EMPTY_FILE", "The file is empty.");
            }
            metrics.received(file.staged().sizeBytes());
            UploadMetadata meta = received.metadata().validated();
            staging.commit(file.staged());
            handedOver = true;
            JsonNode registered = recorder.record(patientId, meta, file, idempotencyKey);
            return accepted(registered, !registered.path("replayed").asBoolean());
        } finally {
            if (!handedOver) {
                staging.discard(key);
            }
        }
    }

    /** The multipart form's {@code file}, as what was made of its bytes, and its {@code metadata}. */
    private record Received<T>(T file, UploadMetadata metadata) {
    }

    /** What is made of the {@code file} part's bytes as they stream in. */
    private interface FileIntake<T> {
        T take(InputStream in, String filename) throws IOException;
    }

    private <T> Received<T> receive(HttpServletRequest request, long limit, FileIntake<T> intake) throws IOException {
        T file = null;
        boolean seen = false;
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
                        if (seen) {
                            throw ApiProblem.badRequest("MULTIPLE_FILES", "Send exactly one part named 'file'.");
                        }
                        seen = true;
                        file = intake.take(in, part.filename());
                    }
                    case "metadata" -> meta = parseMetadata(in);
                    default -> {
                        // read past by the next part
                    }
                }
            }
        } catch (IOException e) {
            throw unreadable(e, limit);
        }
        if (!seen) {
            throw ApiProblem.badRequest("FILE_MISSING", "The upload has no part named 'file'.");
        }
        return new Received<>(file, meta);
    }

    /** Why a multipart body could not be read to its end, as the client is told. */
    private static ApiProblem unreadable(IOException e, long limit) {
        if (e instanceof StagingArea.TooLarge || e instanceof MultipartReader.TooLargeException) {
            return tooLarge(limit);
        }
        if (e instanceof MultipartReader.MalformedException) {
            return ApiProblem.badRequest("MALFORMED_MULTIPART",
                    "The multipart body could not be read: " + e.getMessage() + ".");
        }
        // the client stopped sending: a Content-Length that lies, a slow drip past the read timeout, a reset
        return new ApiProblem(HttpStatus.REQUEST_TIMEOUT, "REQUEST_TIMEOUT",
                "The request body arrived too slowly or ended before its declared length; send it again.", true);
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
        var response = ResponseEntity.status(HttpStatus.ACCEPTED)
                .location(URI.create("/v1/jobs/" + registered.path("jobId").asString()));
        if (!created) {
            response.header("Idempotent-Replayed", "true");
        }
        return response.body(view(registered));
    }

    /** An archive's answer: its files' jobs and images, in the archive's order. */
    private static ResponseEntity<Map<String, Object>> acceptedArchive(List<JsonNode> registered, boolean created) {
        var response = ResponseEntity.status(HttpStatus.ACCEPTED);
        if (!created) {
            response.header("Idempotent-Replayed", "true");
        }
        return response.body(Map.of("items", registered.stream().map(UploadController::view).toList()));
    }

    /** An accepted upload as the client sees it. */
    private static Map<String, Object> view(JsonNode registered) {
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
        return body;
    }

    static ApiProblem tooLarge(long limit) {
        return new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "FILE_TOO_LARGE",
                "The file is larger than the limit of " + limit + " bytes.", false);
    }
}
