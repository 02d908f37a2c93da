package org.patientimages.gateway.upload;

import org.patientimages.gateway.dicom.DicomMetadata;
import org.patientimages.gateway.web.ApiProblem;

import java.util.Map;

/**
 * What a DICOM file's meta information (PS3.10 §7.1, group 0002 after the {@code DICM} prefix) says it holds: its SOP
 * class and instance, and its transfer syntax. Read from the file's first bytes as they are staged, so a DICOMweb
 * store can answer with the instances it took; the data set itself is the worker's to read, but for its Patient ID
 * ({@link #patientId}), which a store at the service's root files it by. Both are read by {@link DicomMetadata}.
 */
record DicomFileMeta(String sopClassUid, String sopInstanceUid, String transferSyntaxUid) {

    private static final int PATIENT_ID = 0x00100020;
    private static final int PATIENT_BIRTH_DATE = 0x00100030;

    /**
     * The meta information at the start of {@code head} (a file's first bytes, its {@code DICM} prefix checked), or
     * {@code 400 INVALID_DICOM} when it does not end there or names no SOP class or instance.
     */
    static DicomFileMeta read(byte[] head) {
        Map<String, Object> meta;
        try {
            meta = DicomMetadata.fileMeta(head);
        } catch (DicomMetadata.NeedMore e) {
            throw invalid("its file meta information does not end within its first " + head.length + " bytes");
        } catch (DicomMetadata.Unreadable e) {
            throw invalid(e.getMessage());
        }
        String sopClass = uid(meta, 0x00020002, "Media Storage SOP Class UID");
        String sopInstance = uid(meta, 0x00020003, "Media Storage SOP Instance UID");
        if (sopClass == null || sopInstance == null) {
            throw invalid("its file meta information names no " + (sopClass == null ? "SOP class" : "SOP instance")
                    + " (0002," + (sopClass == null ? "0002" : "0003") + ")");
        }
        return new DicomFileMeta(sopClass, sopInstance, uid(meta, 0x00020010, "Transfer Syntax UID"));
    }

    /**
     * Whom the data set names: its Patient ID as {@link #patientId} reads it, and its Patient's Birth Date (0010,0030)
     * as written (a DA, {@code YYYYMMDD}), null when it has none or it lies past {@code head}.
     */
    record Patient(String id, String birthDate) {
    }

    static Patient patient(byte[] head, boolean whole) {
        DicomMetadata.DataSet dataSet;
        try {
            dataSet = DicomMetadata.read(head, whole ? head.length : Long.MAX_VALUE, PATIENT_BIRTH_DATE);
        } catch (DicomMetadata.NeedMore e) {
            return new Patient(patientId(head, whole), null);
        } catch (DicomMetadata.Unreadable e) {
            throw invalid(e.getMessage());
        }
        String id = dataSet.string(PATIENT_ID);
        return new Patient(id == null ? "" : id, dataSet.string(PATIENT_BIRTH_DATE));
    }

    /**
     * The Patient ID (0010,0020) of the data set that follows the meta information in {@code head} (a file's first
     * bytes, or all of them: {@code whole}), without the spaces around it (PS3.5 §6.2, LO); empty when the data set
     * has none. {@code 400 INVALID_DICOM} when it is not within {@code head}, or the data set cannot be read (deflated,
     * malformed).
     */
    static String patientId(byte[] head, boolean whole) {
        try {
            String patientId = DicomMetadata.read(head, whole ? head.length : Long.MAX_VALUE, PATIENT_ID)
                    .string(PATIENT_ID);
            return patientId == null ? "" : patientId;
        } catch (DicomMetadata.NeedMore e) {
            throw invalid("its Patient ID (0010,0020) is not within its first " + head.length + " bytes");
        } catch (DicomMetadata.Unreadable e) {
            throw invalid(e.getMessage());
        }
    }

    /** A UID of the meta information, checked; null when it is not there. */
    private static String uid(Map<String, Object> meta, int tag, String name) {
        if (!meta.containsKey(DicomMetadata.tagKey(tag))) {
            return null;
        }
        if (!(DicomMetadata.value(meta, tag) instanceof String uid) || !DicomMetadata.isUid(uid)) {
            throw invalid("its " + name + " is not a UID of digits and dots of at most 64 characters");
        }
        return uid;
    }

    private static ApiProblem invalid(String why) {
        return ApiProblem.badRequest("INVALID_DICOM", "The file is not a DICOM file that can be stored: " + why + ".");
    }
}
