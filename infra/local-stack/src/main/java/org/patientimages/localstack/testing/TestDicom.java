package org.patientimages.localstack.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes DICOM Part 10 files for tests: file meta information, a data set in implicit VR little endian,
 * explicit VR little endian or explicit VR big endian, sequences of undefined length, native or
 * encapsulated pixel data, and, on request, a length that lies. The files it writes are checked against
 * dcmtk's {@code dcmdump} by hand (README, "Tests").
 */
public final class TestDicom {

    public static final String IMPLICIT_LITTLE = "1.2.840.10008.1.2";
    public static final String EXPLICIT_LITTLE = "1.2.840.10008.1.2.1";
    public static final String EXPLICIT_BIG = "1.2.840.10008.1.2.2";
    public static final String JPEG_BASELINE = "1.2.840.10008.1.2.4.50";
    /** JPEG Lossless, first-order prediction (process 14, selection value 1): CT and MR compressed losslessly. */
    public static final String JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70";

    private static final long UNDEFINED = 0xFFFFFFFFL;
    private static final int PIXEL_DATA = 0x7FE00010;

    private String transferSyntax = EXPLICIT_LITTLE;
    private final Map<Integer, Element> elements = new TreeMap<>(Integer::compareUnsigned);

    /** {@code fragments}: encapsulated pixel data's fragments (null for any other element). */
    private record Element(String vr, byte[] value, List<TestDicom> items, Long declaredLength, List<byte[]> fragments) {

        Element(String vr, byte[] value, List<TestDicom> items, Long declaredLength) {
            this(vr, value, items, declaredLength, null);
        }
    }

    private TestDicom() {
    }

    public static TestDicom dataSet() {
        return new TestDicom();
    }

    /**
     * A CT slice of {@code rows}×{@code columns} signed 16-bit pixels (a left-to-right ramp from -1000 to
     * 1000 HU), with the identifying attributes a scanner writes, the patient's name among them.
     */
    public static TestDicom ctSlice(int rows, int columns) {
        return ctSlice(rows, columns, ctPixels(rows, columns));
    }

    /** The pixels of {@link #ctSlice(int, int)}: a left-to-right ramp from -1000 to 1000 HU. */
    public static short[] ctPixels(int rows, int columns) {
        short[] pixels = new short[rows * columns];
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < columns; x++) {
                pixels[y * columns + x] = (short) (-1000 + 2000 * x / Math.max(1, columns - 1));
            }
        }
        return pixels;
    }

    /** A CT slice as {@link #ctSlice(int, int)}, of these signed 16-bit pixels. */
    public static TestDicom ctSlice(int rows, int columns, short[] pixels) {
        return dataSet()
                .string(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.2")
                .string(0x00080018, "UI", "1.2.826.0.1.3680043.2.1125.1.1")
                .string(0x00080020, "DA", "20261127")
                .string(0x00080060, "CS", "CT")
                .string(0x00100010, "PN", "DOE^JANE")
                .string(0x00100020, "LO", "MRN-0042")
                .string(0x00180015, "CS", "CHEST")
                .string(0x0020000D, "UI", "1.2.826.0.1.3680043.2.1125.2")
                .string(0x0020000E, "UI", "1.2.826.0.1.3680043.2.1125.3")
                .us(0x00280002, 1)
                .string(0x00280004, "CS", "MONOCHROME2")
                .us(0x00280010, rows)
                .us(0x00280011, columns)
                .us(0x00280100, 16)
                .us(0x00280101, 16)
                .us(0x00280102, 15)
                .us(0x00280103, 1)
                .string(0x00281050, "DS", "40")
                .string(0x00281051, "DS", "400")
                .string(0x00281052, "DS", "0")
                .string(0x00281053, "DS", "1")
                .pixels(pixels);
    }

    public TestDicom transferSyntax(String uid) {
        this.transferSyntax = uid;
        return this;
    }

    public TestDicom string(int tag, String vr, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
        if (bytes.length % 2 == 1) {
            bytes = java.util.Arrays.copyOf(bytes, bytes.length + 1);
            bytes[bytes.length - 1] = (byte) (vr.equals("UI") ? 0 : ' ');
        }
        return put(tag, new Element(vr, bytes, null, null));
    }

    public TestDicom us(int tag, int value) {
        return put(tag, new Element("US", new byte[] {(byte) value, (byte) (value >>> 8)}, null, null));
    }

    public TestDicom bytes(int tag, String vr, byte[] value) {
        return put(tag, new Element(vr, value, null, null));
    }

    /** A sequence of undefined length whose items (of undefined length too) are the given data sets. */
    public TestDicom sequence(int tag, TestDicom... items) {
        return put(tag, new Element("SQ", null, List.of(items), null));
    }

    /** Native 16-bit pixels. */
    public TestDicom pixels(short[] pixels) {
        ByteBuffer b = ByteBuffer.allocate(pixels.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(pixels);
        return put(PIXEL_DATA, new Element("OW", b.array(), null, null));
    }

    /** Native 8-bit pixels (grey, or RGB interleaved). */
    public TestDicom pixels(byte[] pixels) {
        return put(PIXEL_DATA, new Element("OB", pixels, null, null));
    }

    /**
     * Encapsulated (compressed) pixel data: an empty offset table and these fragments, each written as it is
     * (one of odd length makes its item odd).
     */
    public TestDicom encapsulatedPixels(byte[]... fragments) {
        return put(PIXEL_DATA, new Element("OB", null, null, UNDEFINED, List.of(fragments)));
    }

    /** Makes the element already put declare {@code length} bytes whatever its value holds. */
    public TestDicom lyingLength(int tag, long length) {
        Element e = elements.get(tag);
        return put(tag, new Element(e.vr(), e.value(), e.items(), length, e.fragments()));
    }

    private TestDicom put(int tag, Element e) {
        elements.put(tag, e);
        return this;
    }

    public byte[] toBytes() {
        ByteArrayOutputStream meta = new ByteArrayOutputStream();
        Out m = new Out(meta, true, ByteOrder.LITTLE_ENDIAN);
        m.element(0x00020001, "OB", new byte[] {0, 1});
        m.element(0x00020002, "UI", ui(stringOf(0x00080016, "1.2.840.10008.5.1.4.1.1.7")));
        m.element(0x00020003, "UI", ui(stringOf(0x00080018, "1.2.826.0.1.3680043.2.1125.9")));
        m.element(0x00020010, "UI", ui(transferSyntax));
        m.element(0x00020012, "UI", ui("1.2.826.0.1.3680043.2.1125.99"));
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(new byte[128]);
        file.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        Out f = new Out(file, true, ByteOrder.LITTLE_ENDIAN);
        f.element(0x00020000, "UL", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(meta.size()).array());
        file.writeBytes(meta.toByteArray());
        writeDataSet(file);
        return file.toByteArray();
    }

    private void writeDataSet(ByteArrayOutputStream out) {
        boolean explicit = !transferSyntax.equals(IMPLICIT_LITTLE);
        ByteOrder order = transferSyntax.equals(EXPLICIT_BIG) ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        Out o = new Out(out, explicit, order);
        for (var entry : elements.entrySet()) {
            int tag = entry.getKey();
            Element e = entry.getValue();
            if (e.fragments() != null) {
                o.header(tag, e.vr(), UNDEFINED);
                o.header(0xFFFEE000, null, 0);
                for (byte[] fragment : e.fragments()) {
                    o.header(0xFFFEE000, null, fragment.length);
                    out.writeBytes(fragment);
                }
                o.header(0xFFFEE0DD, null, 0);
            } else if (e.items() != null) {
                o.header(tag, e.vr(), e.declaredLength() != null ? e.declaredLength() : UNDEFINED);
                for (TestDicom item : e.items()) {
                    o.header(0xFFFEE000, null, UNDEFINED);
                    item.transferSyntax = transferSyntax;
                    item.writeDataSet(out);
                    o.header(0xFFFEE00D, null, 0);
                }
                o.header(0xFFFEE0DD, null, 0);
            } else {
                byte[] value = e.value();
                if (order == ByteOrder.BIG_ENDIAN && (e.vr().equals("US") || e.vr().equals("OW"))) {
                    value = swapShorts(value);
                }
                o.header(tag, e.vr(), e.declaredLength() != null ? e.declaredLength() : value.length);
                out.writeBytes(value);
            }
        }
    }

    private String stringOf(int tag, String otherwise) {
        Element e = elements.get(tag);
        return e == null ? otherwise : new String(e.value(), StandardCharsets.ISO_8859_1).strip().replace("\0", "");
    }

    private static byte[] ui(String uid) {
        byte[] bytes = uid.getBytes(StandardCharsets.US_ASCII);
        return bytes.length % 2 == 0 ? bytes : java.util.Arrays.copyOf(bytes, bytes.length + 1);
    }

    private static byte[] swapShorts(byte[] value) {
        byte[] swapped = value.clone();
        for (int i = 0; i + 1 < swapped.length; i += 2) {
            swapped[i] = value[i + 1];
            swapped[i + 1] = value[i];
        }
        return swapped;
    }

    /** Element headers in one encoding. */
    private record Out(ByteArrayOutputStream out, boolean explicit, ByteOrder order) {

        private static final List<String> LONG_LENGTH = new ArrayList<>(List.of("OB", "OD", "OF", "OL", "OV", "OW",
                "SQ", "SV", "UC", "UN", "UR", "UT", "UV"));

        void element(int tag, String vr, byte[] value) {
            header(tag, vr, value.length);
            out.writeBytes(value);
        }

        void header(int tag, String vr, long length) {
            ByteBuffer b = ByteBuffer.allocate(12).order(order);
            b.putShort((short) (tag >>> 16)).putShort((short) tag);
            if (vr == null || !explicit) {
                b.putInt((int) length);
            } else {
                b.put(vr.getBytes(StandardCharsets.US_ASCII));
                if (LONG_LENGTH.contains(vr)) {
                    b.putShort((short) 0).putInt((int) length);
                } else {
                    b.putShort((short) length);
                }
            }
            out.write(b.array(), 0, b.position());
        }
    }
}
