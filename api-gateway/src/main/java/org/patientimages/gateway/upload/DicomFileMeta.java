package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a DICOM file's meta information (PS3.10 §7.1, group 0002 after the {@code DICM} prefix, always explicit VR
 * little endian) says it holds: its SOP class and instance, and its transfer syntax. Read from the file's first
 * bytes as they are staged, so a DICOMweb store can answer with the instances it took; the data set itself is the
 * worker's to read.
 */
record DicomFileMeta(String sopClassUid, String sopInstanceUid, String transferSyntaxUid) {

    private static final int PREFIX_END = 132; // 128-byte preamble and "DICM"
    /** The VRs whose length takes four bytes after two reserved ones (PS3.5 §7.1.2). */
    private static final Set<String> LONG_LENGTH = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN",
            "UR", "UT", "UV");
    private static final Pattern UID = Pattern.compile("[0-9]+(\\.[0-9]+)*");
    private static final int MAX_UID = 64;

    /**
     * The meta information at the start of {@code head} (a file's first bytes, its {@code DICM} prefix checked), or
     * {@code 400 INVALID_DICOM} when it does not end there or names no SOP class or instance.
     */
    static DicomFileMeta read(byte[] head) {
        String sopClass = null;
        String sopInstance = null;
        String transferSyntax = null;
        int at = PREFIX_END;
        while (at + 8 <= head.length && u16(head, at) == 0x0002) {
            int element = u16(head, at + 2);
            String vr = new String(head, at + 4, 2, StandardCharsets.US_ASCII);
            long length;
            int value;
            if (LONG_LENGTH.contains(vr)) {
                if (at + 12 > head.length) {
                    break;
                }
                length = u32(head, at + 8);
                value = at + 12;
            } else {
                length = u16(head, at + 6);
                value = at + 8;
            }
            if (value + length > head.length) {
                throw invalid("its file meta information does not end within its first " + head.length + " bytes");
            }
            switch (element) {
                case 0x0002 -> sopClass = uid(head, value, (int) length, "Media Storage SOP Class UID");
                case 0x0003 -> sopInstance = uid(head, value, (int) length, "Media Storage SOP Instance UID");
                case 0x0010 -> transferSyntax = uid(head, value, (int) length, "Transfer Syntax UID");
                default -> {
                    // not needed here
                }
            }
            at = (int) (value + length);
        }
        if (sopClass == null || sopInstance == null) {
            throw invalid("its file meta information names no " + (sopClass == null ? "SOP class" : "SOP instance")
                    + " (0002," + (sopClass == null ? "0002" : "0003") + ")");
        }
        return new DicomFileMeta(sopClass, sopInstance, transferSyntax);
    }

    private static String uid(byte[] head, int at, int length, String name) {
        String uid = new String(head, at, length, StandardCharsets.US_ASCII).replaceAll("[\\x00 ]+$", "");
        if (uid.isEmpty() || uid.length() > MAX_UID || !UID.matcher(uid).matches()) {
            throw invalid("its " + name + " is not a UID of digits and dots of at most " + MAX_UID + " characters");
        }
        return uid;
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }

    private static long u32(byte[] b, int at) {
        return (u16(b, at) | (long) u16(b, at + 2) << 16) & 0xffffffffL;
    }

    private static ApiProblem invalid(String why) {
        return ApiProblem.badRequest("INVALID_DICOM", "The file is not a DICOM file that can be stored: " + why + ".");
    }
}
