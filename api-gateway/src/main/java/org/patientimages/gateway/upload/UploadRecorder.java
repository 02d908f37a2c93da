package org.patientimages.gateway.upload;

import org.patientimages.gateway.metadata.MetadataClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * Records a staged upload through the metadata-service: its job, image and outbox message in one transaction.
 * Whatever way the bytes came (one multipart request, or a resumable upload's last chunk), this is the moment
 * an upload is accepted.
 */
@Component
class UploadRecorder {

    private static final String UPLOADS = "/internal/v1/uploads";

    private final MetadataClient metadata;
    private final StagingArea staging;

    UploadRecorder(MetadataClient metadata, StagingArea staging) {
        this.metadata = metadata;
        this.staging = staging;
    }

    /** The registration of an earlier request with this idempotency key for the patient, if there was one. */
    Optional<JsonNode> earlier(String patientId, String idempotencyKey) {
        return metadata.find(UPLOADS, Map.of("patientId", patientId, "idempotencyKey", idempotencyKey));
    }

    /**
     * The tags normalised as the upload's registration will store them, or its {@code 400 INVALID_METADATA} now:
     * the rules live in the metadata-service. For uploads whose registration comes long after their creation.
     */
    List<String> checkTags(List<String> tags) {
        if (tags.isEmpty()) {
            return tags;
        }
        List<String> normalised = new ArrayList<>();
        metadata.post(UPLOADS + "/tags", Map.of("tags", tags)).getBody().path("tags")
                .forEach(tag -> normalised.add(tag.asString()));
        return normalised;
    }

    /** One file of an upload: its ids, what it is, and where its bytes are staged. */
    record File(UUID jobId, UUID imageId, String filename, String contentType, StagingArea.Staged staged) {
    }

    /**
     * Records a committed staged upload; the metadata-service's answer is the job (status {@code QUEUED}, or
     * {@code FAILED} on arrival) or a replay. From this call on, the staged file is this method's to keep or let go:
     * it stays while a worker will read it, and also when the answer was lost, since the upload may be recorded all
     * the same (the staging sweeper removes it after its grace if no job needs it). Otherwise it is discarded: not
     * needed by a replay (the first upload's file is), by a job that failed on arrival (a checksum mismatch keeps
     * nothing) or by a refused registration.
     */
    JsonNode record(String patientId, UploadMetadata meta, File file, String idempotencyKey) {
        return registered(UPLOADS, registration(patientId, meta, file, idempotencyKey), List.of(file), List::of).get(0);
    }

    /**
     * Records the files of one archive, all or none, as {@link #record} does one; the {@code n}th file's
     * idempotency key is {@code <key>#<n>}. The answers are in the files' order.
     */
    List<JsonNode> recordAll(String patientId, UploadMetadata meta, List<File> files, String idempotencyKey) {
        return recordAll(Collections.nCopies(files.size(), patientId), meta, files, idempotencyKey);
    }

    /** As {@link #recordAll(String, UploadMetadata, List, String)}, the {@code n}th file of the {@code n}th patient. */
    List<JsonNode> recordAll(List<String> patientIds, UploadMetadata meta, List<File> files, String idempotencyKey) {
        List<Map<String, Object>> registrations = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            registrations.add(registration(patientIds.get(i), meta, files.get(i),
                    idempotencyKey == null ? null : batchKey(idempotencyKey, i)));
        }
        return registered(UPLOADS + "/batch", Map.of("registrations", registrations), files, UploadRecorder::items);
    }

    /** The registrations of an archive sent earlier with this idempotency key, if there was one. */
    Optional<List<JsonNode>> earlierArchive(String patientId, String idempotencyKey) {
        return metadata.find(UPLOADS + "/batch", Map.of("patientId", patientId, "idempotencyKey", idempotencyKey))
                .map(UploadRecorder::items);
    }

    /** The registrations of a batch's answer, in the files' order. */
    private static List<JsonNode> items(JsonNode answer) {
        List<JsonNode> items = new ArrayList<>();
        answer.path("items").forEach(items::add);
        return items;
    }

    /** The idempotency key of the {@code index}th file of an archive sent with {@code key}. */
    static String batchKey(String key, int index) {
        return key + "#" + index;
    }

    private static Map<String, Object> registration(String patientId, UploadMetadata meta, File file,
                                                    String idempotencyKey) {
        Map<String, Object> registration = new LinkedHashMap<>();
        registration.put("jobId", file.jobId());
        registration.put("imageId", file.imageId());
        registration.put("patientId", patientId);
        registration.put("name", meta.name());
        registration.put("description", meta.description());
        registration.put("tags", meta.tags());
        registration.put("originalFilename", file.filename());
        registration.put("contentType", file.contentType());
        registration.put("sizeBytes", file.staged().sizeBytes());
        registration.put("sha256", file.staged().sha256());
        registration.put("declaredSha256", meta.sha256());
        registration.put("stagingKey", file.staged().key());
        registration.put("idempotencyKey", idempotencyKey);
        return registration;
    }

    /** Sends registrations, then keeps or lets go of each file's staged bytes as {@link #record} says. */
    private List<JsonNode> registered(String path, Object body, List<File> files,
                                      Function<JsonNode, List<JsonNode>> answers) {
        boolean[] keep = new boolean[files.size()];
        try {
            List<JsonNode> registered = answers.apply(metadata.post(path, body).getBody());
            for (int i = 0; i < keep.length; i++) {
                JsonNode answer = registered.get(i);
                keep[i] = !answer.path("replayed").asBoolean() && "QUEUED".equals(answer.path("status").asString());
            }
            return registered;
        } catch (MetadataClient.AnswerLost e) {
            Arrays.fill(keep, true);
            throw e;
        } finally {
            for (int i = 0; i < keep.length; i++) {
                if (!keep[i]) {
                    staging.discard(files.get(i).staged().key());
                }
            }
        }
    }
}
