package org.patientimages.gateway.dicom;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A DICOM file's data set in the DICOM JSON model (PS3.18 §F.2), as WADO-RS's metadata resources answer it, read
 * from the file's first bytes, and where its pixel data lies, for its frames; or only its file meta information, or
 * its elements up to one (a DICOMweb store's Patient ID). Pure: the bytes come from the caller.
 * <p>
 * Every element before the pixel data is given, in the file's order, sequences item by item, in explicit or implicit
 * VR (whose VRs come from {@link DicomDictionary}) and either byte order; text in the file's character set (the
 * first of Specific Character Set's terms; code extensions are not followed). Binary values up to
 * {@value #MAX_INLINE} bytes are inline (base64); longer ones are bulk data, given by where they lie in the file
 * ({@link DataSet#bulk}) at the top level and left out within sequences; group lengths are left out; the pixel data
 * is where it lies too, for the instance's frames. Elements after the pixel data are not read. The walk is
 * bounded: lengths must fit in the file, nesting stops at {@value #MAX_DEPTH}.
 */
public final class DicomMetadata {

    public static final int MAX_INLINE = 64 * 1024;
    public static final int PIXEL_DATA = 0x7FE00010;
    private static final int SPECIFIC_CHARACTER_SET = 0x00080005;
    private static final int PIXEL_REPRESENTATION = 0x00280103;
    private static final int ITEM = 0xFFFEE000;
    private static final int ITEM_END = 0xFFFEE00D;
    private static final int SEQUENCE_END = 0xFFFEE0DD;
    private static final long UNDEFINED = 0xFFFFFFFFL;
    private static final int MAX_DEPTH = 16;
    private static final int PREFIX_END = 132;
    private static final String IMPLICIT_LITTLE = "1.2.840.10008.1.2";
    private static final String EXPLICIT_BIG = "1.2.840.10008.1.2.2";
    private static final String DEFLATED = "1.2.840.10008.1.2.1.99";

    private static final Pattern UID = Pattern.compile("[0-9]+(\\.[0-9]+)*");
    private static final int MAX_UID = 64;

    private static final Set<String> LONG_LENGTH = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN",
            "UR", "UT", "UV");
    private static final Set<String> BINARY = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "UN");
    /** Text that is one value, whose leading spaces count (PS3.5 §6.2). */
    private static final Set<String> ONE_TEXT = Set.of("LT", "ST", "UT", "UR");
    /** Text in the character set of the data set; the other string VRs are ASCII. */
    private static final Set<String> CHARACTER_SET_TEXT = Set.of("SH", "LO", "ST", "LT", "UC", "UT", "PN");
    private static final Map<String, String> CHARSETS = Map.ofEntries(
            Map.entry("ISO_IR 100", "ISO-8859-1"), Map.entry("ISO_IR 101", "ISO-8859-2"),
            Map.entry("ISO_IR 109", "ISO-8859-3"), Map.entry("ISO_IR 110", "ISO-8859-4"),
            Map.entry("ISO_IR 144", "ISO-8859-5"), Map.entry("ISO_IR 127", "ISO-8859-6"),
            Map.entry("ISO_IR 126", "ISO-8859-7"), Map.entry("ISO_IR 138", "ISO-8859-8"),
            Map.entry("ISO_IR 148", "ISO-8859-9"), Map.entry("ISO_IR 203", "ISO-8859-15"),
            Map.entry("ISO_IR 13", "Shift_JIS"), Map.entry("ISO_IR 166", "TIS-620"),
            Map.entry("ISO_IR 192", "UTF-8"), Map.entry("GB18030", "GB18030"), Map.entry("GBK", "GBK"),
            Map.entry("ISO 2022 IR 100", "ISO-8859-1"), Map.entry("ISO 2022 IR 192", "UTF-8"));

    /** Where the pixel data's value lies in the file: {@code length} -1 for encapsulated (undefined length). */
    public record PixelData(long offset, long length, String vr) {
        public boolean encapsulated() {
            return length < 0;
        }
    }

    /** Where a value lies in the file. */
    public record Bulk(long offset, long length) {
    }

    /**
     * The data set in the DICOM JSON model, its transfer syntax, its pixel data (null when it has none), and its
     * top-level bulk data by tag (each element in {@code elements} with its VR only).
     */
    public record DataSet(Map<String, Object> elements, String transferSyntax, PixelData pixels,
                          Map<String, Bulk> bulk) {

        /** An integer attribute's first value ({@code US}, {@code IS}…), or {@code otherwise}. */
        int integer(int tag, int otherwise) {
            return value(elements, tag) instanceof Number number ? number.intValue() : otherwise;
        }

        /** A text attribute's first value, or null. */
        public String string(int tag) {
            return value(elements, tag) instanceof String text ? text : null;
        }

        /** Whether its pixel data is in big endian byte order. */
        boolean bigEndian() {
            return EXPLICIT_BIG.equals(transferSyntax);
        }
    }

    /** More of the file than was given is needed: at least its first {@code bytes}. */
    public static final class NeedMore extends RuntimeException {
        private final long bytes;

        NeedMore(long bytes) {
            super(null, null, false, false);
            this.bytes = bytes;
        }

        /** How many of the file's first bytes it takes, at least. */
        public long bytes() {
            return bytes;
        }
    }

    /** A file that cannot be read this way: not DICOM, its data set deflated, or malformed. */
    public static final class Unreadable extends RuntimeException {
        public Unreadable(String why) {
            super(why);
        }
    }

    private DicomMetadata() {
    }

    /**
     * Reads the data set from the file's first bytes ({@code fileSize} long in all, {@link Long#MAX_VALUE} when not
     * known); {@link NeedMore} when they end before its pixel data (or its end), {@link Unreadable} when it cannot be
     * read.
     */
    public static DataSet read(byte[] bytes, long fileSize) {
        return read(bytes, fileSize, PIXEL_DATA);
    }

    /** As {@link #read(byte[], long)}, only up to the element {@code until} (its top-level elements go in order). */
    public static DataSet read(byte[] bytes, long fileSize, int until) {
        FileMeta meta = fileMeta(bytes, fileSize);
        if (meta.end() + 4 > bytes.length && bytes.length < fileSize) {
            throw new NeedMore(bytes.length + MAX_INLINE);
        }
        String syntax = value(meta.elements(), 0x00020010) instanceof String text ? text : null;
        if (DEFLATED.equals(syntax)) {
            throw new Unreadable("its data set is deflated");
        }
        Walk walk = new Walk(bytes, fileSize, !IMPLICIT_LITTLE.equals(syntax),
                EXPLICIT_BIG.equals(syntax) ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        walk.at = meta.end();
        walk.until = until;
        Map<String, Object> elements = walk.items(Long.MAX_VALUE, 0, true);
        return new DataSet(Collections.unmodifiableMap(elements), syntax, walk.pixels,
                Collections.unmodifiableMap(walk.bulk));
    }

    /**
     * The file meta information (PS3.10 §7.1, group 0002, always explicit VR little endian) at the start of a file's
     * first bytes, in the DICOM JSON model; it ends where they do, if not before. {@link NeedMore} when an element's
     * value goes past them.
     */
    public static Map<String, Object> fileMeta(byte[] head) {
        return fileMeta(head, Long.MAX_VALUE).elements();
    }

    private record FileMeta(Map<String, Object> elements, int end) {
    }

    private static FileMeta fileMeta(byte[] bytes, long fileSize) {
        if (bytes.length < PREFIX_END || !"DICM".equals(new String(bytes, 128, 4, StandardCharsets.US_ASCII))) {
            if (bytes.length < fileSize && bytes.length < PREFIX_END) {
                throw new NeedMore(PREFIX_END);
            }
            throw new Unreadable("no DICM prefix");
        }
        Walk meta = new Walk(bytes, fileSize, true, ByteOrder.LITTLE_ENDIAN);
        meta.at = PREFIX_END;
        Map<String, Object> elements = new LinkedHashMap<>();
        while (meta.at + 8 <= bytes.length && meta.u16(meta.at) == 0x0002) {
            Walk.Header header = meta.header(0);
            Object element = meta.element(header, 0);
            if (element != null) {
                elements.put(tagKey(header.tag()), element);
            }
        }
        return new FileMeta(elements, meta.at);
    }

    public static String tagKey(int tag) {
        return HexFormat.of().withUpperCase().toHexDigits(tag);
    }

    /** Whether a text is a UID (PS3.5 §9.1): digits and dots, at most 64 characters. */
    public static boolean isUid(String text) {
        return text.length() <= MAX_UID && UID.matcher(text).matches();
    }

    /** The first value of an element among {@code elements} (DICOM JSON), or null. */
    public static Object value(Map<String, Object> elements, int tag) {
        if (elements.get(tagKey(tag)) instanceof Map<?, ?> element && element.get("Value") instanceof List<?> values
                && !values.isEmpty()) {
            return values.get(0);
        }
        return null;
    }

    /** One pass over the data set. */
    private static final class Walk {

        private final byte[] bytes;
        private final long fileSize;
        private final boolean explicit;
        private final ByteOrder order;
        private Charset charset = StandardCharsets.ISO_8859_1;
        private boolean signedPixels;
        private PixelData pixels;
        private final Map<String, Bulk> bulk = new LinkedHashMap<>();
        private int until = PIXEL_DATA;
        private int at;

        Walk(byte[] bytes, long fileSize, boolean explicit, ByteOrder order) {
            this.bytes = bytes;
            this.fileSize = fileSize;
            this.explicit = explicit;
            this.order = order;
        }

        private record Header(int tag, String vr, long length) {
        }

        /**
         * The elements from here to {@code end} (a position, for an item of defined length), to an item's end
         * delimiter, or to the end of the file or its pixel data ({@code top}).
         */
        Map<String, Object> items(long end, int depth, boolean top) {
            Map<String, Object> elements = new LinkedHashMap<>();
            while (at < end) {
                if (top && at == fileSize) {
                    break;
                }
                require(8);
                if (top && Integer.compareUnsigned(u16(at) << 16 | u16(at + 2), until) > 0) {
                    break; // past the last element wanted
                }
                Header header = header(depth);
                if (header.tag() == ITEM_END && !top) {
                    break;
                }
                if (header.vr() == null) {
                    throw new Unreadable("an item or a delimiter where a data element belongs");
                }
                if (top && header.tag() == PIXEL_DATA) {
                    pixels = new PixelData(at, header.length() == UNDEFINED ? -1 : header.length(), header.vr());
                    elements.put(tagKey(PIXEL_DATA), Map.of("vr", header.vr()));
                    break;
                }
                Object element = element(header, depth);
                if (element != null && (header.tag() & 0xFFFF) != 0) {
                    elements.put(tagKey(header.tag()), element);
                }
            }
            return elements;
        }

        /** The element's DICOM JSON object, after its header; null for a binary value too long to be inline. */
        private Object element(Header header, int depth) {
            String vr = header.vr();
            if (header.length() == UNDEFINED) {
                if (!vr.equals("SQ") && !vr.equals("UN")) {
                    throw new Unreadable("(" + tagKey(header.tag()) + ") of undefined length is no sequence");
                }
                // an UN of undefined length is a sequence in implicit VR little endian (PS3.5 §6.2.2)
                Walk inner = vr.equals("UN") && explicit ? new Walk(bytes, fileSize, false, ByteOrder.LITTLE_ENDIAN)
                        : this;
                inner.at = at;
                inner.charset = charset;
                Map<String, Object> sequence = inner.sequence(UNDEFINED, depth);
                at = inner.at;
                return sequence;
            }
            if (vr.equals("SQ")) {
                requireWithin(header.length());
                return sequence(header.length(), depth);
            }
            long length = header.length();
            if (BINARY.contains(vr) && length > MAX_INLINE) {
                require(length); // the elements after it are wanted: the bytes must reach past it
                if (depth == 0) {
                    bulk.put(tagKey(header.tag()), new Bulk(at, length));
                }
                at += (int) length;
                return depth == 0 ? Map.of("vr", vr) : null;
            }
            require(length);
            Map<String, Object> element = new LinkedHashMap<>();
            element.put("vr", vr);
            List<Object> values = values(header.tag(), vr, (int) length);
            if (values != null) {
                element.put(BINARY.contains(vr) ? "InlineBinary" : "Value",
                        BINARY.contains(vr) ? values.get(0) : values);
            }
            at += (int) length;
            return element;
        }

        private Map<String, Object> sequence(long length, int depth) {
            if (depth == MAX_DEPTH) {
                throw new Unreadable("sequences nested deeper than " + MAX_DEPTH);
            }
            long end = length == UNDEFINED ? Long.MAX_VALUE : at + length;
            List<Object> items = new ArrayList<>();
            while (at < end) {
                Header item = header(depth);
                if (item.tag() == SEQUENCE_END) {
                    break;
                }
                if (item.tag() != ITEM) {
                    throw new Unreadable("a sequence holds something other than items");
                }
                if (item.length() != UNDEFINED) {
                    requireWithin(item.length());
                }
                items.add(items(item.length() == UNDEFINED ? Long.MAX_VALUE : at + item.length(), depth + 1, false));
            }
            Map<String, Object> element = new LinkedHashMap<>();
            element.put("vr", "SQ");
            if (!items.isEmpty()) {
                element.put("Value", items);
            }
            return element;
        }

        /** The values of an element, as DICOM JSON has them; null when it has none. */
        private List<Object> values(int tag, String vr, int length) {
            if (length == 0) {
                return null;
            }
            ByteBuffer value = ByteBuffer.wrap(bytes, at, length).slice().order(order);
            List<Object> values = new ArrayList<>();
            switch (vr) {
                case "US" -> {
                    while (value.remaining() >= 2) {
                        values.add(Short.toUnsignedInt(value.getShort()));
                    }
                    if (tag == PIXEL_REPRESENTATION && !values.isEmpty()) {
                        signedPixels = values.get(0).equals(1);
                    }
                }
                case "SS" -> {
                    while (value.remaining() >= 2) {
                        values.add((int) value.getShort());
                    }
                }
                case "UL" -> {
                    while (value.remaining() >= 4) {
                        values.add(Integer.toUnsignedLong(value.getInt()));
                    }
                }
                case "SL" -> {
                    while (value.remaining() >= 4) {
                        values.add(value.getInt());
                    }
                }
                case "SV", "UV" -> {
                    while (value.remaining() >= 8) {
                        long v = value.getLong();
                        values.add(vr.equals("SV") ? (Object) v : new BigDecimal(Long.toUnsignedString(v)));
                    }
                }
                case "FL" -> {
                    while (value.remaining() >= 4) {
                        float f = value.getFloat();
                        values.add(Float.isFinite(f) ? new BigDecimal(Float.toString(f)) : String.valueOf(f));
                    }
                }
                case "FD" -> {
                    while (value.remaining() >= 8) {
                        values.add(number(value.getDouble()));
                    }
                }
                case "AT" -> {
                    while (value.remaining() >= 4) {
                        values.add(tagKey(Short.toUnsignedInt(value.getShort()) << 16
                                | Short.toUnsignedInt(value.getShort())));
                    }
                }
                case "OB", "OD", "OF", "OL", "OV", "OW", "UN" -> {
                    byte[] raw = new byte[length];
                    value.get(raw);
                    values.add(Base64.getEncoder().encodeToString(raw));
                }
                default -> {
                    return strings(tag, vr, length);
                }
            }
            return values.isEmpty() ? null : values;
        }

        private List<Object> strings(int tag, String vr, int length) {
            String text = new String(bytes, at, length, CHARACTER_SET_TEXT.contains(vr) ? charset
                    : StandardCharsets.ISO_8859_1);
            if (tag == SPECIFIC_CHARACTER_SET) {
                String first = text.split("\\\\", -1)[0].strip();
                try {
                    charset = Charset.forName(CHARSETS.getOrDefault(first, "ISO-8859-1"));
                } catch (IllegalArgumentException e) {
                    charset = StandardCharsets.ISO_8859_1; // a runtime without that character set
                }
            }
            if (ONE_TEXT.contains(vr)) {
                String one = vr.equals("UR") ? text.strip() : text.replaceAll("[\\x00 ]+$", "");
                return one.isEmpty() ? null : List.of(one);
            }
            List<Object> values = new ArrayList<>();
            boolean any = false;
            for (String part : text.split("\\\\", -1)) {
                String v = part.replaceAll("^ +|[\\x00 ]+$", "");
                Object json = v.isEmpty() ? null : switch (vr) {
                    case "PN" -> personName(v);
                    case "DS" -> decimal(v);
                    case "IS" -> integer(v);
                    default -> v;
                };
                any |= json != null;
                values.add(json);
            }
            return any ? values : null;
        }

        /** A person's name by its component groups (PS3.18 §F.2.2). */
        private static Map<String, String> personName(String value) {
            String[] groups = value.split("=", -1);
            String[] names = {"Alphabetic", "Ideographic", "Phonetic"};
            Map<String, String> name = new LinkedHashMap<>();
            for (int i = 0; i < Math.min(groups.length, names.length); i++) {
                if (!groups[i].isEmpty()) {
                    name.put(names[i], groups[i]);
                }
            }
            return name;
        }

        private static Object decimal(String value) {
            try {
                return new BigDecimal(value.startsWith("+") ? value.substring(1) : value);
            } catch (NumberFormatException e) {
                return value; // as written (CP 1861 allows strings)
            }
        }

        private static Object integer(String value) {
            try {
                return Long.parseLong(value.startsWith("+") ? value.substring(1) : value);
            } catch (NumberFormatException e) {
                return value;
            }
        }

        private static Object number(double value) {
            return Double.isFinite(value) ? BigDecimal.valueOf(value) : String.valueOf(value);
        }

        /** Reads the header at the walk's position, and moves past it. */
        Header header(int depth) {
            require(8);
            int tag = u16(at) << 16 | u16(at + 2);
            if (tag >>> 16 == 0xFFFE) { // items and delimiters are always implicit
                Header header = new Header(tag, null, u32(at + 4));
                at += 8;
                return header;
            }
            if (!explicit) {
                Header header = new Header(tag, tag == PIXEL_DATA ? "OW" : DicomDictionary.vr(tag, signedPixels),
                        u32(at + 4));
                at += 8;
                if (header.length() == UNDEFINED && !header.vr().equals("SQ")) {
                    return new Header(tag, tag == PIXEL_DATA ? "OB" : "SQ", UNDEFINED);
                }
                return header;
            }
            String vr = new String(bytes, at + 4, 2, StandardCharsets.US_ASCII);
            if (!vr.matches("[A-Z]{2}")) {
                throw new Unreadable("(" + tagKey(tag) + ") has no VR in an explicit VR data set");
            }
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

        /** The next {@code length} bytes are in {@code bytes}; {@link NeedMore} when the file goes on past them. */
        void require(long length) {
            requireWithin(length);
            if (at + length > bytes.length) {
                throw new NeedMore(Math.min(fileSize, Math.max(at + length + MAX_INLINE, 2L * bytes.length)));
            }
        }

        /** The next {@code length} bytes are in the file. */
        private void requireWithin(long length) {
            if (at + length > fileSize) {
                throw new Unreadable("an element's length goes past the end of the file");
            }
        }

        private int u16(int i) {
            return order == ByteOrder.BIG_ENDIAN ? (bytes[i] & 0xff) << 8 | bytes[i + 1] & 0xff
                    : bytes[i] & 0xff | (bytes[i + 1] & 0xff) << 8;
        }

        private long u32(int i) {
            return order == ByteOrder.BIG_ENDIAN ? ((long) u16(i) << 16 | u16(i + 2)) & 0xffffffffL
                    : (u16(i) | (long) u16(i + 2) << 16) & 0xffffffffL;
        }
    }
}
