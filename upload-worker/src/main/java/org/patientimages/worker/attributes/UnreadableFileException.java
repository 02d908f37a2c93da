package org.patientimages.worker.attributes;

/**
 * A step that reads an image (attributes, thumbnail) could not be done for this file. The message says why
 * in terms of the format only: it never carries patient data.
 */
public class UnreadableFileException extends Exception {

    public UnreadableFileException(String reason) {
        super(reason);
    }

    /** @param cause what failed unexpectedly; its message is not the reason given */
    public UnreadableFileException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
