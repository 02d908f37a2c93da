package org.patientimages.worker.upload;

import io.micrometer.core.instrument.MeterRegistry;
import org.patientimages.worker.staging.StagingArea;
import org.patientimages.worker.storage.ObjectStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import java.util.Map;
import java.util.Optional;

/**
 * Stores one staged upload. Safe to run again for the same job at any point (redelivery after a crash,
 * a replayed topic): an object already stored with the expected size and SHA-256 is reported, not sent
 * twice. Failures that no retry can mend are thrown as {@link UploadFailedException}, the rest as they come;
 * the error handler retries the latter with back-off and ends the job with {@link #fail} when it gives up.
 */
@Service
public class UploadProcessor {

    private static final Logger log = LoggerFactory.getLogger(UploadProcessor.class);

    private final StagingArea staging;
    private final ObjectStore store;
    private final JobReporter reporter;
    private final Derivatives derivatives;
    private final Cancellations cancellations;
    private final MeterRegistry registry;

    UploadProcessor(StagingArea staging, ObjectStore store, JobReporter reporter, Derivatives derivatives,
                    Cancellations cancellations, MeterRegistry registry) {
        this.registry = registry;
        this.staging = staging;
        this.store = store;
        this.reporter = reporter;
        this.cancellations = cancellations;
        this.derivatives = derivatives;
    }

    /**
     * One attempt of the job. A job its client cancelled is passed over instead (checked before each attempt, so a
     * job retried while the store is down is not tried again): nothing is stored or reported, as the job has ended
     * {@code CANCELLED}, and its staged bytes go at once.
     * @return false when the job was passed over as cancelled
     */
    public boolean process(UploadJob job) {
        if (cancellations.isCancelled(job.jobId())) {
            log.info("job {} was cancelled; skipped", job.jobId());
            registry.counter("upload.jobs", "outcome", "cancelled").increment();
            staging.delete(job.stagingKey());
            return false;
        }
        reporter.started(job);
        log.info("job {} started", job.jobId());
        String key = job.objectKey();
        StagingArea.Staged staged = staging.find(job.stagingKey()).orElse(null);
        // An earlier attempt may have stored the object already (a redelivery after a crash). Asking costs a
        // request per job; sending again costs the file. So a large file is asked about first, a small one is
        // only asked about when its staged bytes are gone; otherwise it is simply sent again, to the same key.
        if (staged == null || job.sizeBytes() > store.multipartThreshold()) {
            Optional<ObjectStore.StoredObject> existing = store.head(key);
            if (existing.isPresent() && matches(existing.get(), job)) {
                log.info("job {}: object already stored by an earlier attempt", job.jobId());
                reporter.stored(job, store.bucket(), job.sizeBytes(), job.sha256());
                // the attempt that stored it may have died before deriving: derive again while the bytes are here
                if (staged != null) {
                    try (StagingArea.Local local = forDerivatives(job, staged)) {
                        derive(job, local);
                    }
                }
                succeed(job);
                return true;
            }
        }
        if (staged == null) {
            throw new UploadFailedException(FailureCode.STAGED_FILE_MISSING,
                    "The staged upload is no longer available; upload the file again.");
        }
        if (staged.sizeBytes() != job.sizeBytes()) {
            throw changedOnDisk();
        }
        // what derivatives are read from is fetched first (from a staging bucket), so that the bytes are read once
        try (StagingArea.Local local = forDerivatives(job, staged)) {
            try {
                // the store's answer to the request (or to the multipart completion) is what says the object is there
                staged.storeInto(store, key, job.recorded(), job.contentType(), stored -> {
                    int percent = (int) (90 * stored / Math.max(1, job.sizeBytes()));
                    reporter.progressed(job, percent, stored);
                });
            } catch (ObjectStore.ContentMismatchException e) {
                throw changedOnDisk();
            }
            reporter.stored(job, store.bucket(), job.sizeBytes(), job.sha256());
            derive(job, local);
        }
        succeed(job);
        return true;
    }

    /**
     * A file of the staged bytes when the format has something to read (in a staging bucket, it is fetched for
     * it); null, which a try-with-resources skips, when there is nothing to derive.
     */
    private static StagingArea.Local forDerivatives(UploadJob job, StagingArea.Staged staged) {
        return Derivatives.reads(job.contentType()) ? staged.local() : null;
    }

    /**
     * What is read and rendered from the stored bytes: attributes, then the thumbnail, each reported as the job's
     * (see {@link Derivatives}). Nothing when there is no file to read (see {@link #forDerivatives}).
     */
    private void derive(UploadJob job, StagingArea.Local local) {
        if (local == null) {
            return;
        }
        Derivatives.Sink sink = new Derivatives.Sink() {
            @Override
            public void attributes(Map<String, Object> attributes) {
                reporter.attributesExtracted(job, attributes);
            }

            @Override
            public void attributesDone() {
                reporter.progressed(job, 95, job.sizeBytes());
            }

            @Override
            public void thumbnail(String key, int width, int height) {
                reporter.thumbnailRendered(job, key, width, height);
            }

            @Override
            public void skipped(String step, String reason) {
                reporter.stepSkipped(job, step, reason);
            }
        };
        derivatives.derive(local.file(), job.contentType(), job.imageId(), sink);
    }

    private void succeed(UploadJob job) {
        reporter.succeeded(job);
        registry.counter("upload.jobs", "outcome", "succeeded").increment();
        staging.delete(job.stagingKey());
        log.info("job {} succeeded", job.jobId());
    }

    private static UploadFailedException changedOnDisk() {
        return new UploadFailedException(FailureCode.CHECKSUM_MISMATCH,
                "The staged bytes no longer match the size and SHA-256 received; upload the file again.");
    }

    /**
     * Ends a job FAILED: reported, and its staged bytes removed, so that nothing of it stays; unless the cause may
     * pass (the object store stayed down past the retry budget): then they stay for a retry of the job
     * ({@code POST /v1/jobs/{id}/retry}), and the gateway's staging sweeper removes them once it can no longer come.
     */
    public void fail(UploadJob job, FailureCode code, String message) {
        log.warn("job {} failed: {}", job.jobId(), code);
        reporter.failed(job.jobId(), job.imageId(), code, message);
        registry.counter("upload.jobs", "outcome", "failed", "code", code.name()).increment();
        if (!code.retryable()) {
            staging.delete(job.stagingKey());
        }
    }

    private static boolean matches(ObjectStore.StoredObject object, UploadJob job) {
        return object.sizeBytes() == job.sizeBytes() && job.sha256().equals(object.sha256());
    }
}
