package org.patientimages.worker.upload;

/**
 * Reports the facts of a job. Each call returns once the fact is durable (acknowledged by Kafka), so a
 * worker commits its offset only after everything it did was reported.
 */
public interface JobReporter {

    void started(UploadJob job);

    void progressed(UploadJob job, int percent, long bytesStored);

    void stored(UploadJob job, String bucket, long sizeBytes, String sha256);

    /** What was read from the bytes (dimensions, EXIF); only reported when there is something. */
    void attributesExtracted(UploadJob job, java.util.Map<String, Object> attributes);

    void thumbnailRendered(UploadJob job, String objectKey, int width, int height);

    /** A step after storing (ATTRIBUTES, THUMBNAIL) could not be done for this file; the reason names no patient data. */
    void stepSkipped(UploadJob job, String step, String reason);

    void succeeded(UploadJob job);

    void failed(String jobId, String imageId, FailureCode code, String message);

    void retryScheduled(String jobId, String imageId, String reason, long backoffMs);
}
