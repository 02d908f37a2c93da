package org.patientimages.metadata.job;

/**
 * A job as the API shows it. {@code retryOf} names the failed job this one runs again, {@code retriedBy} the job
 * that runs this one again; null when there is none.
 */
public record Job(String jobId, String type, JobStatus status, String patientId, String imageId, int progress,
                  int attempts, String createdAt, String updatedAt, Error error, String retryOf, String retriedBy) {

    public record Error(String code, String message, boolean retryable) {
    }
}
