package org.patientimages.worker.upload;

import org.patientimages.events.v1.UploadAccepted;
import org.patientimages.worker.storage.ObjectStore;

/** The work one {@code UploadAccepted} event asks for. */
public record UploadJob(String jobId, String imageId, String patientId, String stagingKey, long sizeBytes,
                        String sha256, String contentType) {

    public static UploadJob of(UploadAccepted e) {
        return new UploadJob(e.getJobId(), e.getImageId(), e.getPatientId(), e.getStagingKey(), e.getSizeBytes(),
                e.getSha256(), e.getContentType());
    }

    /** What the original is stored with: its SHA-256, and the patient and job it was uploaded for. */
    public ObjectStore.Recorded recorded() {
        return new ObjectStore.Recorded(sha256, patientId, jobId);
    }

    /** Server-generated: derived from the image id only, so a second attempt writes the same key. */
    public String objectKey() {
        return "images/" + imageId + "/original";
    }
}
