package org.patientimages.worker.upload;

import org.patientimages.events.v1.UploadAccepted;

/** The work one {@code UploadAccepted} event asks for. */
public record UploadJob(String jobId, String imageId, String patientId, String stagingKey, long sizeBytes,
                        String sha256, String contentType) {

    public static UploadJob of(UploadAccepted e) {
        return new UploadJob(e.getJobId(), e.getImageId(), e.getPatientId(), e.getStagingKey(), e.getSizeBytes(),
                e.getSha256(), e.getContentType());
    }

    /** Server-generated: derived from the image id only, so a second attempt writes the same key. */
    public String objectKey() {
        return "images/" + imageId + "/original";
    }
}
