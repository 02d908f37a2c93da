package org.patientimages.worker.attributes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the service reads of a DICOM Part 10 file: the identifying UIDs, modality, study date, body part, series and
 * instance numbers and matrix size shown on the image, and where the first frame's pixels (and a palette's lookup
 * tables) lie for the thumbnail.
 * <p>
 * The walk is strict and bounded, because the files come from outside: every declared length must fit in
 * the bytes that remain, a value is only ever read when it is one of the few attributes wanted and at most
 * {@value #MAX_VALUE} bytes long, everything else (sequences, private blobs, pixel data) is skipped by
 * position without reading it, and nesting and element counts are capped. A lying file therefore costs a
 * few kilobytes and ends in a {@link DicomFormatException}, never in a large allocation or an endless loop.
 * Names are never read; of free text only the study's and series' descriptions and the accession number. Pure: no
 * Spring, Kafka or S3 here.
 */
public final class DicomFile {

    /** The attributes copied onto the image, by tag. PatientName and the like are deliberately absent. */
    private static final Map<Integer, String> SHOWN = Map.ofEntries(
            Map.entry(0x00020010, "TransferSyntaxUID"),
            Map.entry(0x00080016, "SOPClassUID"),
            Map.entry(0x00080050, "AccessionNumber"),
            Map.entry(0x00081030, "StudyDescription"),
            Map.entry(0x0008103E, "SeriesDescription"),
            Map.entry(0x00080018, "SOPInstanceUID"),
            Map.entry(0x00080020, "StudyDate"),
            Map.entry(0x00080060, "Modality"),
            Map.entry(0x00100020, "PatientID"),
            Map.entry(0x00180015, "BodyPartExamined"),
            Map.entry(0x0020000D, "StudyInstanceUID"),
            Map.entry(0x0020000E, "SeriesInstanceUID"),
            Map.entry(0x00200011, "SeriesNumber"),
            Map.entry(0x00200013, "InstanceNumber"),
            Map.entry(0x00280010, "Rows"),
            Map.entry(0x00280011, "Columns"));
    /** Free text in the file's character set (the others are ASCII by definition: UIDs, codes, numbers, dates). */
    private static final Set<Integer> TEXTS = Set.of(0x00081030, 0x0008103E, 0x00080050);
    private static final int SPECIFIC_CHARACTER_SET = 0x00080005;
    /** PS3.3 C.12.1.1.2's single-byte and Unicode character sets by their defined terms; others read as Latin-1. */
    private static final Map<String, Charset> CHARACTER_SETS = Map.ofEntries(
            Map.entry("ISO_IR 100", StandardCharsets.ISO_8859_1),
            Map.entry("ISO_IR 192", StandardCharsets.UTF_8),
            Map.entry("ISO_IR 101", Charset.forName("ISO-8859-2")),
            Map.entry("ISO_IR 109", Charset.forName("ISO-8859-3")),
            Map.entry("ISO_IR 110", Charset.forName("ISO-8859-4")),
            Map.entry("ISO_IR 144", Charset.forName("ISO-8859-5")),
            Map.entry("ISO_IR 127", Charset.forName("ISO-8859-6")),
            Map.entry("ISO_IR 126", Charset.forName("ISO-8859-7")),
            Map.entry("ISO_IR 138", Charset.forName("ISO-8859-8")),
            Map.entry("ISO_IR 148", Charset.forName("ISO-8859-9")),
            Map.entry("GB18030", Charset.forName("GB18030")),
            Map.entry("GBK", Charset.forName("GBK")));
    /** Integer strings (IS), shown as numbers: where a series and an image lie in the order a viewer shows them. */
    private static final Set<Integer> INTEGER_STRINGS = Set.of(0x00200011, 0x00200013);
    /** Attributes of the image pixel module, needed to render the thumbnail. */
    private static final Map<Integer, String> PIXEL_MODULE = Map.of(
            0x00280002, "SamplesPerPixel",
            0x00280004, "PhotometricInterpretation",
            0x00280006, "PlanarConfiguration",
            0x00280008, "NumberOfFrames",
            0x00280100, "BitsAllocated",
            0x00280101, "BitsStored",
            0x00280103, "PixelRepresentation",
            0x00281050, "WindowCenter",
            0x00281051, "WindowWidth",
            0x00281052, "RescaleIntercept");
    private static final int RESCALE_SLOPE = 0x00281053;
    /** The red, green and blue palette lookup tables' descriptors (3 × US), and their data (OW), by colour. */
    private static final int PALETTE_DESCRIPTOR = 0x00281101;
    private static final int PALETTE_DATA = 0x00281201;
    /** A palette lookup table has at most 65,536 entries of at most 16 bits. */
    private static final long MAX_PALETTE_DATA = 65_536 * 2;
    private static final Set<Integer> UNSIGNED_SHORTS = Set.of(0x00280002, 0x00280006, 0x00280010, 0x00280011,
            0x00280100, 0x00280101, 0x00280103);
    private static final Set<String> LONG_LENGTH_VRS = Set.of("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC",
            "UN", "UR", "UT", "UV");

    private static final int PIXEL_DATA = 0x7FE00010;
    private static final int ITEM = 0xFFFEE000;
    private static final int ITEM_END = 0xFFFEE00D;
    private static final int SEQUENCE_END = 0xFFFEE0DD;
    private static final long UNDEFINED = 0xFFFFFFFFL;
    static final int MAX_VALUE = 1024;
    private static final int MAX_DEPTH = 16;
    private static final int MAX_ELEMENTS = 100_000;

    private static final String IMPLICIT_LITTLE = "1.2.840.10008.1.2";
    private static final String EXPLICIT_LITTLE = "1.2.840.10008.1.2.1";
    private static final String EXPLICIT_BIG = "1.2.840.10008.1.2.2";
    private static final String DEFLATED = "1.2.840.10008.1.2.1.99";

    /**
     * Where the pixels lie and how to read them. {@code encapsulated} pixel data is compressed
     * (JPEG, JPEG 2000, RLE…). {@code palette}: the lookup tables of {@code PALETTE COLOR} pixels, null when the
     * file does not have all three.
     */
    public record Pixels(int rows, int columns, int samplesPerPixel, String photometric, int planarConfiguration,
                         int bitsAllocated, int bitsStored, boolean signed, int frames, double slope,
                         double intercept, Double windowCenter, Double windowWidth, long offset, long length,
                         boolean bigEndian, boolean encapsulated, List<Lut> palette) {
    }

    /**
     * One colour's palette lookup table: its descriptor ({@code entries}, 0 meaning 65,536; the first pixel value
     * mapped; the bits of an entry, 8 or 16) and where its data lies in the file (not read by the walk).
     */
    public record Lut(int entries, int firstMapped, int bits, long offset, long length) {
    }

    private final Map<String, Object> attributes;
    private final Pixels pixels;

    private DicomFile(Map<String, Object> attributes, Pixels pixels) {
        this.attributes = attributes;
        this.pixels = pixels;
    }

    /** The shown attributes that the file has, in DICOM keyword form ({@code Rows} and {@code Columns} as numbers). */
    public Map<String, Object> attributes() {
        return attributes;
    }

    /** The pixel data, or null when the file has none that can be located. */
    public Pixels pixels() {
        return pixels;
    }

    public static DicomFile read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return new Walk(channel).run();
        }
    }

    /** One pass over a file. */
    private static final class Walk {

        private final FileChannel channel;
        private final long size;
        private final Map<String, Object> shown = new LinkedHashMap<>();
        /** The character set of the texts, from Specific Character Set (0008,0005); Latin-1 without one. */
        private Charset charset = StandardCharsets.ISO_8859_1;
        private final Map<String, Object> pixelModule = new LinkedHashMap<>();
        /** Of each colour (red, green, blue): its palette descriptor, and where its data lies. */
        private final int[][] paletteDescriptors = new int[3][];
        private final long[][] paletteData = new long[3][];
        private long position;
        private int elements;
        private boolean explicit = true;
        private ByteOrder order = ByteOrder.LITTLE_ENDIAN;

        Walk(FileChannel channel) throws IOException {
            this.channel = channel;
            this.size = channel.size();
        }

        /** A data element's header: tag, VR (null when implicit) and value length. */
        private record Element(int tag, String vr, long length) {
        }

        DicomFile run() throws IOException {
            if (size < 132 || !"DICM".equals(new String(read(128, 4).array(), StandardCharsets.US_ASCII))) {
                throw new DicomFormatException("no DICM marker after the 128-byte preamble");
            }
            position = 132;
            // the file meta information is always explicit VR little endian
            while (position < size && peekGroup() == 0x0002) {
                value(element());
            }
            String syntax = (String) shown.getOrDefault("TransferSyntaxUID", "");
            if (syntax.equals(DEFLATED)) {
                return new DicomFile(shown, null); // the data set is compressed as a whole: nothing more to read
            }
            explicit = !syntax.equals(IMPLICIT_LITTLE);
            order = syntax.equals(EXPLICIT_BIG) ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            Pixels pixels = null;
            while (position < size) {
                Element e = element();
                if (e.tag() == PIXEL_DATA) {
                    boolean encapsulated = e.length() == UNDEFINED;
                    if (!encapsulated) {
                        requireFits(e);
                    }
                    pixels = pixels(encapsulated ? size - position : e.length(), encapsulated);
                    break;
                }
                if (e.length() == UNDEFINED) {
                    skipSequence(e, 1);
                } else {
                    value(e);
                }
            }
            return new DicomFile(shown, pixels);
        }

        private Pixels pixels(long length, boolean encapsulated) {
            Object rows = shown.get("Rows");
            Object columns = shown.get("Columns");
            if (!(rows instanceof Integer r) || !(columns instanceof Integer c)) {
                return null;
            }
            return new Pixels(r, c, intOf("SamplesPerPixel", 1),
                    ((String) pixelModule.getOrDefault("PhotometricInterpretation", "MONOCHROME2")).toUpperCase(),
                    intOf("PlanarConfiguration", 0), intOf("BitsAllocated", 16),
                    intOf("BitsStored", intOf("BitsAllocated", 16)), intOf("PixelRepresentation", 0) == 1,
                    (int) Math.max(1, number("NumberOfFrames", 1)), number("RescaleSlope", 1),
                    number("RescaleIntercept", 0), numberOrNull("WindowCenter"), numberOrNull("WindowWidth"),
                    position, length, order == ByteOrder.BIG_ENDIAN, encapsulated, palette());
        }

        /** The three lookup tables, when the file has the descriptor and the data of each. */
        private List<Lut> palette() {
            List<Lut> luts = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                int[] d = paletteDescriptors[c];
                long[] data = paletteData[c];
                if (d == null || data == null) {
                    return null;
                }
                luts.add(new Lut(d[0], d[1], d[2], data[0], data[1]));
            }
            return List.copyOf(luts);
        }

        /** Reads the value of a wanted element and skips any other. */
        private void value(Element e) throws IOException {
            requireFits(e);
            int colour = e.tag() - PALETTE_DESCRIPTOR;
            if (colour >= 0 && colour < 3 && e.length() == 6) {
                ByteBuffer d = read(position, 6).order(order);
                paletteDescriptors[colour] = new int[] {Short.toUnsignedInt(d.getShort(0)),
                        Short.toUnsignedInt(d.getShort(2)), Short.toUnsignedInt(d.getShort(4))};
            }
            colour = e.tag() - PALETTE_DATA;
            if (colour >= 0 && colour < 3 && e.length() <= MAX_PALETTE_DATA) {
                paletteData[colour] = new long[] {position, e.length()}; // read only if the thumbnail needs it
            }
            if (e.tag() == SPECIFIC_CHARACTER_SET && e.length() <= MAX_VALUE) {
                // its first term names the character set of the texts (code extensions, ISO 2022, are not followed)
                charset = CHARACTER_SETS.getOrDefault(first(text(read(position, (int) e.length()).array(),
                        StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1);
            }
            String shownName = SHOWN.get(e.tag());
            String pixelName = e.tag() == RESCALE_SLOPE ? "RescaleSlope" : PIXEL_MODULE.get(e.tag());
            if ((shownName == null && pixelName == null) || e.length() > MAX_VALUE) {
                position += e.length();
                return;
            }
            ByteBuffer bytes = read(position, (int) e.length());
            position += e.length();
            Object value;
            if (UNSIGNED_SHORTS.contains(e.tag())) {
                if (e.length() < 2) {
                    throw new DicomFormatException(tag(e.tag()) + " is shorter than a US value");
                }
                value = Short.toUnsignedInt(bytes.order(order).getShort(0));
            } else {
                value = text(bytes.array(), TEXTS.contains(e.tag()) ? charset : StandardCharsets.ISO_8859_1);
                if (((String) value).isEmpty()) {
                    return; // present but empty (type 2 attributes): as good as absent
                }
                if (INTEGER_STRINGS.contains(e.tag())) {
                    try {
                        value = Integer.valueOf(first((String) value));
                    } catch (NumberFormatException notANumber) {
                        return; // shown only as the number it should be
                    }
                }
            }
            (shownName != null ? shown : pixelModule).put(shownName != null ? shownName : pixelName, value);
        }

        /** Skips a sequence of undefined length (or encapsulated data): items until the sequence delimiter. */
        private void skipSequence(Element sequence, int depth) throws IOException {
            if (depth > MAX_DEPTH) {
                throw new DicomFormatException("sequences nested deeper than " + MAX_DEPTH);
            }
            if (explicit && sequence.vr() != null && !sequence.vr().equals("SQ") && !sequence.vr().equals("UN")) {
                throw new DicomFormatException(tag(sequence.tag()) + " has an undefined length but VR " + sequence.vr());
            }
            while (true) {
                Element item = itemHeader();
                if (item.tag() == SEQUENCE_END) {
                    return;
                }
                if (item.tag() != ITEM) {
                    throw new DicomFormatException("expected an item in " + tag(sequence.tag()) + ", found " + tag(item.tag()));
                }
                if (item.length() != UNDEFINED) {
                    requireFits(item);
                    position += item.length();
                    continue;
                }
                while (true) {
                    if (peekTag() == ITEM_END) {
                        itemHeader();
                        break;
                    }
                    Element nested = element();
                    if (nested.length() == UNDEFINED) {
                        skipSequence(nested, depth + 1);
                    } else {
                        requireFits(nested);
                        position += nested.length();
                    }
                }
            }
        }

        private Element element() throws IOException {
            count();
            // the encoding in force: explicit VR little endian for the file meta group, the transfer syntax's after
            ByteBuffer b = read(position, 8).order(order);
            int tag = (Short.toUnsignedInt(b.getShort(0)) << 16) | Short.toUnsignedInt(b.getShort(2));
            if ((tag >>> 16) == 0xFFFE || !explicit) { // items and delimiters have no VR, nor has implicit VR
                position += 8;
                return new Element(tag, null, Integer.toUnsignedLong(b.getInt(4)));
            }
            String vr = new String(new byte[] {b.get(4), b.get(5)}, StandardCharsets.US_ASCII);
            if (!vr.chars().allMatch(ch -> ch >= 'A' && ch <= 'Z')) {
                throw new DicomFormatException(tag(tag) + " has no valid VR");
            }
            if (LONG_LENGTH_VRS.contains(vr)) {
                ByteBuffer l = read(position + 8, 4).order(order);
                position += 12;
                return new Element(tag, vr, Integer.toUnsignedLong(l.getInt(0)));
            }
            position += 8;
            return new Element(tag, vr, Short.toUnsignedInt(b.getShort(6)));
        }

        private Element itemHeader() throws IOException {
            count();
            ByteBuffer b = read(position, 8).order(order);
            position += 8;
            int tag = (Short.toUnsignedInt(b.getShort(0)) << 16) | Short.toUnsignedInt(b.getShort(2));
            return new Element(tag, null, Integer.toUnsignedLong(b.getInt(4)));
        }

        private void count() throws DicomFormatException {
            if (++elements > MAX_ELEMENTS) {
                throw new DicomFormatException("more than " + MAX_ELEMENTS + " data elements before the pixel data");
            }
        }

        private int peekGroup() throws IOException {
            return Short.toUnsignedInt(read(position, 2).order(ByteOrder.LITTLE_ENDIAN).getShort(0));
        }

        private int peekTag() throws IOException {
            ByteBuffer b = read(position, 4).order(order);
            return (Short.toUnsignedInt(b.getShort(0)) << 16) | Short.toUnsignedInt(b.getShort(2));
        }

        private void requireFits(Element e) throws DicomFormatException {
            if (e.length() == UNDEFINED || e.length() > size - position) {
                throw new DicomFormatException(tag(e.tag()) + " declares " + e.length() + " bytes but only "
                        + (size - position) + " remain");
            }
        }

        /** Exactly {@code length} bytes at {@code at}; the caller has checked that they are few. */
        private ByteBuffer read(long at, int length) throws IOException {
            if (at + length > size) {
                throw new DicomFormatException("the file ends inside a data element");
            }
            ByteBuffer b = ByteBuffer.allocate(length);
            while (b.hasRemaining()) {
                if (channel.read(b, at + b.position()) < 0) {
                    throw new DicomFormatException("the file ends inside a data element");
                }
            }
            return b.clear();
        }

        private int intOf(String name, int otherwise) {
            Object v = pixelModule.get(name);
            return v instanceof Integer i ? i : otherwise;
        }

        private double number(String name, double otherwise) {
            Double d = numberOrNull(name);
            return d == null ? otherwise : d;
        }

        /** A decimal or integer string; of a multi-valued one (window center of several presets), the first. */
        private Double numberOrNull(String name) {
            Object v = pixelModule.get(name);
            if (!(v instanceof String s) || s.isEmpty()) {
                return null;
            }
            try {
                double d = Double.parseDouble(first(s));
                return Double.isFinite(d) ? d : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    /** The first value of a multi-valued text (values separated by a backslash), stripped. */
    private static String first(String value) {
        return value.split("\\\\", 2)[0].strip();
    }

    /** A text value in a character set, without padding and without control characters. */
    private static String text(byte[] bytes, Charset charset) {
        String decoded = new String(bytes, charset);
        StringBuilder s = new StringBuilder(decoded.length());
        decoded.codePoints().filter(c -> c >= 0x20 && (c < 0x7f || c > 0x9f)).forEach(s::appendCodePoint);
        return s.toString().strip();
    }

    private static String tag(int tag) {
        return String.format("(%04X,%04X)", tag >>> 16, tag & 0xffff);
    }
}
