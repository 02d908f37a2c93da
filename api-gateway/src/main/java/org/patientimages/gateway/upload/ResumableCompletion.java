package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;

/**
 * A resumable upload whose bytes are all in becomes an upload like any other: its bytes are staged and it is
 * recorded, in the request that sent its last chunk. When that fails in a way that passes (the metadata-service
 * away, the staging area full), the bytes stay: the next {@code PATCH} at the end tries again, and so does this
 * class's sweep once the upload was left alone for {@code accept-after}, for clients that take "every byte sent"
 * as done. The sweep also removes expired uploads.
 */
@Component
class ResumableCompletion {

    private static final Logger log = LoggerFactory.getLogger(ResumableCompletion.class);
    private final ResumableUploads uploads;
    private final StagingArea staging;
    private final UploadRecorder recorder;
    private final ContentSniffer sniffer;
    private final UploadMetrics metrics;
    /** A complete upload left alone this long is accepted by the sweep (its client may never come back). */
    private final Duration acceptAfter;

    ResumableCompletion(ResumableUploads uploads, StagingArea staging, UploadRecorder recorder, ContentSniffer sniffer,
                        UploadMetrics metrics, ResumableUploads.ResumableProperties properties) {
        this.acceptAfter = properties.acceptAfter();
        this.uploads = uploads;
        this.staging = staging;
        this.recorder = recorder;
        this.sniffer = sniffer;
        this.metrics = metrics;
    }

    /**
     * Stages and records an upload whose bytes are all in; the caller holds its lock. An upload that can never be
     * accepted (refused by type, its patient gone, a tag refused) is removed; one refused for now stays.
     * Recorded with an idempotency key of the upload, so that it is recorded once whoever tries again.
     */
    ResumableUploads.Upload accept(ResumableUploads.Upload upload) {
        String idempotencyKey = "resumable:" + upload.uploadId();
        UUID jobId = UUID.randomUUID();
        String key = jobId.toString();
        boolean handedOver = false; // to the recorder, which keeps or discards the staged file
        try {
            Optional<JsonNode> earlier = recorder.earlier(upload.patientId(), idempotencyKey);
            if (earlier.isPresent()) {
                return accepted(upload, earlier.get());
            }
            String[] contentType = {null};
            StagingArea.Staged staged;
            try {
                staged = staging.adopt(key, uploads.file(upload), upload.length(),
                        head -> contentType[0] = sniffer.check(head));
            } catch (IOException e) {
                throw Disk.failed(e); // our own file, not a client's body
            }
            staging.commit(staged);
            handedOver = true;
            JsonNode registered = recorder.record(upload.patientId(), upload.metadata(),
                    new UploadRecorder.File(jobId, UUID.randomUUID(), upload.filename(), contentType[0], staged),
                    idempotencyKey);
            metrics.accepted();
            metrics.received(staged.sizeBytes());
            return accepted(upload, registered);
        } catch (ApiProblem e) {
            metrics.rejected(e.code());
            if (!e.retryable()) {
                uploads.delete(upload.uploadId());
            }
            throw e;
        } finally {
            if (!handedOver) {
                staging.discard(key);
            }
        }
    }

    private ResumableUploads.Upload accepted(ResumableUploads.Upload upload, JsonNode registered) {
        ResumableUploads.Upload done = upload.accepted(registered);
        uploads.accepted(done);
        return done;
    }

    @Scheduled(fixedDelayString = "${patient-images.staging.cleanup-interval:5m}",
            initialDelayString = "${patient-images.staging.cleanup-interval:5m}")
    void sweep() {
        int removed = 0;
        int accepted = 0;
        try {
            for (ResumableUploads.Upload upload : uploads.all()) {
                if (uploads.expired(upload)) {
                    uploads.delete(upload.uploadId());
                    removed++;
                } else if (!upload.accepted() && !upload.partial() && uploads.offset(upload) == upload.length()
                        && uploads.idle(upload).compareTo(acceptAfter) >= 0) {
                    try (var chunks = uploads.lock(upload)) {
                        accept(upload);
                        accepted++;
                    } catch (ApiProblem e) {
                        log.warn("resumable upload {} has all its bytes but is not accepted yet: {} {}",
                                upload.uploadId(), e.code(), e.getMessage());
                    }
                }
            }
            for (UUID orphan : uploads.orphans()) {
                uploads.delete(orphan);
                removed++;
            }
        } catch (IOException | ApiProblem e) {
            log.warn("resumable upload sweep stopped early: {}", e.getMessage());
        }
        if (removed + accepted > 0) {
            log.info("resumable upload sweep: {} expired removed, {} complete accepted", removed, accepted);
        }
    }
}
