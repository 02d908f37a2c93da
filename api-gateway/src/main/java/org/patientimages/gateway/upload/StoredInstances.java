package org.patientimages.gateway.upload;

import org.patientimages.gateway.image.DicomJson;
import org.patientimages.gateway.web.ApiProblem;
import org.patientimages.gateway.web.MediaTypes;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DICOMweb store's rules (STOW-RS, PS3.18 §10.5) that are not an upload's: what its body and parts must be,
 * and its answer in the DICOM JSON model (PS3.18 §F.2).
 */
final class StoredInstances {

    static final String DICOM = "application/dicom";
    static final MediaType DICOM_JSON = MediaType.parseMediaType("application/dicom+json");
    /** Referenced SOP Sequence (0008,1199): one item per instance stored. */
    static final String REFERENCED_SOP_SEQUENCE = "00081199";
    private static final String REFERENCED_SOP_CLASS = "00081150";
    private static final String REFERENCED_SOP_INSTANCE = "00081155";
    /** How far into a file its Patient ID is looked for, at the service's root. */
    static final int PATIENT_ID_WINDOW = 64 * 1024;

    private StoredInstances() {
    }

    /** A body of DICOM files: {@code multipart/related}, of {@code type="application/dicom"} when it names one. */
    static void requireDicomParts(String contentType) {
        boolean dicom;
        try {
            dicom = contentType != null
                    && MediaTypes.isDicomParts(MediaType.parseMediaType(MediaTypes.lenient(contentType)));
        } catch (InvalidMediaTypeException e) {
            dicom = false;
        }
        if (!dicom) {
            throw new ApiProblem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
                    "Send DICOM files as multipart/related; type=\"application/dicom\", one file a part (DICOM JSON"
                            + " or XML with bulk data is not taken).", false);
        }
    }

    /** A part that says what it is says {@code application/dicom}. */
    static void requireDicom(String label, String partType) {
        if (partType != null && !DICOM.equals(typeAndSubtype(partType))) {
            throw new ApiProblem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
                    label + " is " + partType + "; a store request takes application/dicom parts only.", false);
        }
    }

    private static String typeAndSubtype(String contentType) {
        try {
            MediaType type = MediaType.parseMediaType(contentType);
            return type.getType() + "/" + type.getSubtype(); // lower-cased by the parser
        } catch (InvalidMediaTypeException e) {
            return null;
        }
    }

    /** The meta information of a part whose first bytes were found to be of {@code type}, which must be DICOM. */
    static DicomFileMeta meta(String type, byte[] head) {
        if (!DICOM.equals(type)) {
            throw new ApiProblem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
                    "its bytes are " + type + ", not a DICOM file (no DICM at byte 128)", false);
        }
        return DicomFileMeta.read(head);
    }

    /** Whom a part's file names (its Patient ID and birth date), from its first bytes; a refusal names the part. */
    static DicomFileMeta.Patient patient(String label, LeadingBytes leading) {
        try {
            return DicomFileMeta.patient(leading.bytes(), leading.whole());
        } catch (ApiProblem refused) {
            throw refused.about(label);
        }
    }

    /**
     * Whether a file's Patient's Birth Date ({@code YYYYMMDD}, or an older {@code YYYY.MM.DD}) contradicts the
     * patient's ({@code YYYY-MM-DD}); not when either is missing or the file's is no date.
     */
    static boolean contradicts(String fileBirthDate, String patientBirthDate) {
        if (fileBirthDate == null || patientBirthDate == null) {
            return false;
        }
        String file = fileBirthDate.strip().replace(".", "");
        return file.matches("\\d{8}") && !file.equals(patientBirthDate.replace("-", ""));
    }

    /** An instance whose birth date is not that of the patient its Patient ID names. */
    static ApiProblem mismatchedPatient(String label) {
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, "PATIENT_MISMATCH", label + ": its Patient's Birth"
                + " Date (0010,0030) is not the date of birth of the patient whose identifier is its Patient ID: the"
                + " file or the patient's record is wrong (PATCH /v1/patients/{id} mends the record); nothing of this"
                + " request is kept.", false);
    }

    /** An instance that names no patient the caller may see: {@code why}. */
    static ApiProblem unknownPatient(String why) {
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, "UNKNOWN_PATIENT_ID", why + ". At the service's root"
                + " each file is stored for the patient whose identifier is its Patient ID: give the patient that"
                + " identifier (PATCH /v1/patients/{id}), or store the file at the patient's own root; nothing of this"
                + " request is kept.", false);
    }

    /** {@code 200} with the instances taken, in the body's order. */
    static ResponseEntity<Map<String, Object>> answer(List<DicomFileMeta> instances) {
        List<Map<String, Object>> items = instances.stream().map(instance -> {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put(REFERENCED_SOP_CLASS, DicomJson.element("UI", List.of(instance.sopClassUid())));
            item.put(REFERENCED_SOP_INSTANCE, DicomJson.element("UI", List.of(instance.sopInstanceUid())));
            return item;
        }).toList();
        return ResponseEntity.ok().contentType(DICOM_JSON)
                .body(Map.of(REFERENCED_SOP_SEQUENCE, DicomJson.element("SQ", items)));
    }

    /** How many instances an answer names. */
    static int count(Map<String, Object> answer) {
        return ((List<?>) ((Map<?, ?>) answer.get(REFERENCED_SOP_SEQUENCE)).get("Value")).size();
    }
}
