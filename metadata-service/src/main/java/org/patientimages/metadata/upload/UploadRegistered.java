package org.patientimages.metadata.upload;

import org.patientimages.metadata.job.JobStatus;

/**
 * The answer to a registration. {@code status} is the job's status when it was accepted: QUEUED, FAILED
 * when the bytes did not match the client's checksum, or SUCCEEDED when they duplicate an image the patient
 * has and the policy skips duplicates ({@code imageId} is then that image). {@code replayed} is true when the
 * idempotency key named an earlier upload, whose job this is; nothing new was created. {@code duplicateOf}
 * names the earlier image with the same bytes, if any.
 */
public record UploadRegistered(String jobId, String imageId, JobStatus status, boolean replayed, String duplicateOf) {
}
