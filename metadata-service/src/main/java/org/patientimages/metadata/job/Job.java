package org.patientimages.metadata.job;

/** A job as the API shows it. */
public record Job(String jobId, String type, JobStatus status, String patientId, String imageId, int progress,
                  int attempts, String createdAt, String updatedAt, Error error) {

    public record Error(String code, String message, boolean retryable) {
    }
}
