package org.patientimages.gateway.upload;

import org.patientimages.gateway.metadata.MetadataClient;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

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

    /**
     * Records a committed staged upload; the metadata-service's answer is the job (status {@code QUEUED}, or
     * {@code FAILED} on arrival) or a replay. From this call on, the staged file is this method's to keep or let go:
     * it stays while a worker will read it, and also when the answer was lost, since the upload may be recorded all
     * the same (the staging sweeper removes it after its grace if no job needs it). Otherwise it is discarded: not
     * needed by a replay (the first upload's file is), by a job that failed on arrival (a checksum mismatch keeps
     * nothing) or by a refused registration.
     */
    JsonNode record(String patientId, UUID jobId, UUID imageId, UploadMetadata meta, String filename, String contentType,
                    StagingArea.Staged staged, String idempotencyKey) {
        Map<String, Object> registration = new LinkedHashMap<>();
        registration.put("jobId", jobId);
        registration.put("imageId", imageId);
        registration.put("patientId", patientId);
        registration.put("name", meta.name());
        registration.put("description", meta.description());
        registration.put("tags", meta.tags());
        registration.put("originalFilename", filename);
        registration.put("contentType", contentType);
        registration.put("sizeBytes", staged.sizeBytes());
        registration.put("sha256", staged.sha256());
        registration.put("declaredSha256", meta.sha256());
        registration.put("stagingKey", staged.key());
        registration.put("idempotencyKey", idempotencyKey);
        boolean keep = false;
        try {
            JsonNode registered = metadata.post(UPLOADS, registration).getBody();
            keep = !registered.path("replayed").asBoolean() && "QUEUED".equals(registered.path("status").asString());
            return registered;
        } catch (MetadataClient.AnswerLost e) {
            keep = true;
            throw e;
        } finally {
            if (!keep) {
                staging.discard(staged.key());
            }
        }
    }
}
