package org.patientimages.metadata.upload;

import org.patientimages.metadata.job.JobStatus;

/**
 * The answer to a registration. {@code status} is the job's status when it was accepted: QUEUED, or FAILED
 * when the bytes did not match the client's checksum. {@code replayed} is true when the idempotency key named
 * an earlier upload, whose job this is; nothing new was created.
 */
public record UploadRegistered(String jobId, String imageId, JobStatus status, boolean replayed) {
}
