package org.patientimages.worker.attributes;

import java.io.IOException;

/** A file that claims to be DICOM but breaks its encoding: a length past the end, a missing delimiter, and so on. */
public class DicomFormatException extends IOException {

    public DicomFormatException(String message) {
        super(message);
    }
}
