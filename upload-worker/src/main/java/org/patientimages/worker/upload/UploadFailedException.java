package org.patientimages.worker.upload;

/** A failure no retry can mend: the job ends FAILED with this code and its record is dead-lettered at once. */
public class UploadFailedException extends RuntimeException {

    private final FailureCode code;

    public UploadFailedException(FailureCode code, String message) {
        super(message);
        this.code = code;
    }

    public FailureCode code() {
        return code;
    }
}
