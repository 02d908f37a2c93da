package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a DICOM file's meta information (PS3.10 §7.1, group 0002 after the {@code DICM} prefix, always explicit VR
 * little endian) says it holds: its SOP class and instance, and its transfer syntax. Read from the file's first
 * bytes as they are staged, so a DICOMweb store can answer with the instances it took; the data set itself is the
 * worker's to read, but for its Patient ID ({@link #patientId}), which a store at the service's root files it by.
 */
record DicomFileMeta(String sopClassUid, String sopInstanceUid, String transferSyntaxUid) {

    private static final int PREFIX_END = 132; // 128-byte preamble and "DICM"
    /** The VRs whose length takes four bytes after two reserved ones (PS3.5 §7.1.2). */
    private static final Set<String> LONG_LENGTH = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN",
            "UR", "UT", "UV");
    private static final Pattern UID = Pattern.compile("[0-9]+(\\.[0-9]+)*");
    private static final int MAX_UID = 64;

    private static final String IMPLICIT_LITTLE = "1.2.840.10008.1.2";
    private static final String EXPLICIT_BIG = "1.2.840.10008.1.2.2";
    private static final String DEFLATED = "1.2.840.10008.1.2.1.99";
    private static final int SPECIFIC_CHARACTER_SET = 0x00080005;
    private static final int PATIENT_ID = 0x00100020;
    private static final int ITEM = 0xFFFEE000;
    private static final int ITEM_END = 0xFFFEE00D;
    private static final int SEQUENCE_END = 0xFFFEE0DD;
    private static final long UNDEFINED = 0xFFFFFFFFL;
    private static final int MAX_DEPTH = 16;

    /**
     * The meta information at the start of {@code head} (a file's first bytes, its {@code DICM} prefix checked), or
     * {@code 400 INVALID_DICOM} when it does not end there or names no SOP class or instance.
     */
    static DicomFileMeta read(byte[] head) {
        return parse(head).meta();
    }

    /** The meta information, and where the data set begins. */
    private record Parsed(DicomFileMeta meta, int dataSet) {
    }

    private static Parsed parse(byte[] head) {
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
        return new Parsed(new DicomFileMeta(sopClass, sopInstance, transferSyntax), at);
    }

    /**
     * The Patient ID (0010,0020) of the data set that follows the meta information in {@code head} (a file's first
     * bytes, or all of them), without the spaces around it (PS3.5 §6.2, LO); empty when the data set has none. The
     * walk reads no other value (but the character set's, to decode it) and skips what lies before it by position,
     * sequences of undefined length item by item: {@code 400 INVALID_DICOM} when it does not get there within
     * {@code head}, or the data set is deflated. {@code whole}: {@code head} is the whole file.
     */
    static String patientId(byte[] head, boolean whole) {
        Parsed parsed = parse(head);
        String syntax = parsed.meta().transferSyntaxUid();
        if (DEFLATED.equals(syntax)) {
            throw invalid("its data set is deflated, so its Patient ID (0010,0020) cannot be read as it arrives");
        }
        return new DataSet(head, whole, !IMPLICIT_LITTLE.equals(syntax), EXPLICIT_BIG.equals(syntax))
                .patientId(parsed.dataSet());
    }

    /** A walk over the top level of a data set, in ascending tag order, up to the Patient ID. */
    private static final class DataSet {

        private final byte[] bytes;
        private final boolean whole;
        private final boolean explicit;
        private final boolean bigEndian;
        private Charset charset = StandardCharsets.ISO_8859_1;
        private int at;

        DataSet(byte[] bytes, boolean whole, boolean explicit, boolean bigEndian) {
            this.bytes = bytes;
            this.whole = whole;
            this.explicit = explicit;
            this.bigEndian = bigEndian;
        }

        /** A data element's header: its tag, VR (null when implicit, and for items) and value length. */
        private record Header(int tag, String vr, long length) {
        }

        String patientId(int start) {
            at = start;
            while (true) {
                if (whole && at == bytes.length) {
                    return ""; // the data set ended without one
                }
                require(8);
                int tag = tag();
                if (Integer.compareUnsigned(tag, PATIENT_ID) > 0) {
                    return ""; // past where it would be
                }
                Header header = header(explicit);
                if (tag == PATIENT_ID || tag == SPECIFIC_CHARACTER_SET) {
                    if (header.length() == UNDEFINED) {
                        throw invalid("its Patient ID (0010,0020) or Specific Character Set has no length");
                    }
                    require(header.length());
                    String value = new String(bytes, at, (int) header.length(), charset)
                            .replaceAll("^ +|[\\x00 ]+$", "");
                    at += (int) header.length();
                    if (tag == PATIENT_ID) {
                        return value;
                    }
                    // the first of its values is the one for values without escape sequences (PS3.5 §6.1.2.5.3)
                    charset = value.split("\\\\", -1)[0].strip().equals("ISO_IR 192") ? StandardCharsets.UTF_8
                            : StandardCharsets.ISO_8859_1;
                } else {
                    skip(header, explicit, 0);
                }
            }
        }

        private int tag() {
            return u16(at) << 16 | u16(at + 2);
        }

        /** Reads the header at the walk's position, and moves past it. */
        private Header header(boolean explicitVr) {
            require(8);
            int tag = tag();
            if (tag >>> 16 == 0xFFFE || !explicitVr) { // items and delimiters are always implicit
                Header header = new Header(tag, null, u32(at + 4));
                at += 8;
                return header;
            }
            String vr = new String(bytes, at + 4, 2, StandardCharsets.US_ASCII);
            if (LONG_LENGTH.contains(vr)) {
                require(12);
                Header header = new Header(tag, vr, u32(at + 8));
                at += 12;
                return header;
            }
            Header header = new Header(tag, vr, u16(at + 6));
            at += 8;
            return header;
        }

        /** Moves past an element's value: by its length, or a sequence of undefined length item by item. */
        private void skip(Header header, boolean explicitVr, int depth) {
            if (header.length() != UNDEFINED) {
                require(header.length());
                at += (int) header.length();
                return;
            }
            if (depth == MAX_DEPTH) {
                throw invalid("its sequences are nested deeper than " + MAX_DEPTH);
            }
            // an UN of undefined length holds implicit VR little endian (PS3.5 §6.2.2)
            boolean inner = explicitVr && !"UN".equals(header.vr());
            while (true) {
                Header item = header(inner);
                if (item.tag() == SEQUENCE_END) {
                    return;
                }
                if (item.tag() != ITEM) {
                    throw invalid("a sequence before its Patient ID holds something other than items");
                }
                if (item.length() != UNDEFINED) {
                    skip(item, inner, depth + 1);
                    continue;
                }
                for (Header element; (element = header(inner)).tag() != ITEM_END; ) {
                    skip(element, inner, depth + 1);
                }
            }
        }

        private void require(long length) {
            if (at + length > bytes.length) {
                throw invalid(whole ? "its data set ends within a data element before its Patient ID (0010,0020)"
                        : "its Patient ID (0010,0020) is not within its first " + bytes.length + " bytes");
            }
        }

        private int u16(int i) {
            return bigEndian ? (bytes[i] & 0xff) << 8 | (bytes[i + 1] & 0xff) : DicomFileMeta.u16(bytes, i);
        }

        private long u32(int i) {
            return bigEndian ? ((long) u16(i) << 16 | u16(i + 2)) & 0xffffffffL : DicomFileMeta.u32(bytes, i);
        }
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
