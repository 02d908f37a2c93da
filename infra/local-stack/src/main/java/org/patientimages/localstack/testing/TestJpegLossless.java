package org.patientimages.localstack.testing;

import java.io.ByteArrayOutputStream;

/**
 * Lossless JPEG (ITU T.81 process 14) of one grey frame, as CT and MR scanners store compressed DICOM: the samples
 * predicted from their left neighbour (selection value 1), the differences Huffman-coded. For the tests' DICOM
 * files; no Java library on Maven Central writes it. Every difference category has a 5-bit code.
 */
public final class TestJpegLossless {

    private TestJpegLossless() {
    }

    /** 16-bit pixels (signed or not: their bits as they are stored), row by row. */
    public static byte[] encode(short[] pixels, int rows, int columns) {
        int[] samples = new int[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            samples[i] = pixels[i] & 0xFFFF;
        }
        return encode(samples, rows, columns, 16);
    }

    /** {@code samples}: {@code rows × columns} values of {@code precision} bits (2 to 16), row by row. */
    public static byte[] encode(int[] samples, int rows, int columns, int precision) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        marker(out, 0xD8);
        marker(out, 0xC3); // start of frame, lossless
        short16(out, 11);
        out.write(precision);
        short16(out, rows);
        short16(out, columns);
        out.write(1); // one component: id 1, no subsampling, no quantisation table
        out.write(1);
        out.write(0x11);
        out.write(0);
        marker(out, 0xC4); // the Huffman table: categories 0 to 16, all with 5-bit codes
        short16(out, 2 + 1 + 16 + 17);
        out.write(0x00);
        for (int length = 1; length <= 16; length++) {
            out.write(length == 5 ? 17 : 0);
        }
        for (int category = 0; category <= 16; category++) {
            out.write(category);
        }
        marker(out, 0xDA); // start of scan: predictor 1 (left), no point transform
        short16(out, 8);
        out.write(1);
        out.write(1);
        out.write(0x00);
        out.write(1);
        out.write(0);
        out.write(0);
        Bits bits = new Bits(out);
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < columns; x++) {
                int prediction = x == 0 && y == 0 ? 1 << (precision - 1)
                        : x == 0 ? samples[(y - 1) * columns] : samples[y * columns + x - 1];
                int difference = (short) ((samples[y * columns + x] - prediction) & 0xFFFF);
                int category = difference == 0 ? 0
                        : difference == -32768 ? 16 : 32 - Integer.numberOfLeadingZeros(Math.abs(difference));
                bits.write(category, 5);
                if (category > 0 && category < 16) {
                    bits.write(difference > 0 ? difference : difference - 1, category);
                }
            }
        }
        bits.flush();
        marker(out, 0xD9);
        return out.toByteArray();
    }

    private static void marker(ByteArrayOutputStream out, int code) {
        out.write(0xFF);
        out.write(code);
    }

    private static void short16(ByteArrayOutputStream out, int value) {
        out.write(value >>> 8);
        out.write(value);
    }

    /** Entropy-coded bits, most significant first, a 0x00 stuffed after every 0xFF byte. */
    private static final class Bits {
        private final ByteArrayOutputStream out;
        private int buffer;
        private int count;

        Bits(ByteArrayOutputStream out) {
            this.out = out;
        }

        void write(int value, int length) {
            for (int i = length - 1; i >= 0; i--) {
                buffer = buffer << 1 | (value >>> i & 1);
                if (++count == 8) {
                    emit();
                }
            }
        }

        void flush() {
            while (count != 0) {
                write(1, 1); // padded with ones
            }
        }

        private void emit() {
            out.write(buffer);
            if ((buffer & 0xFF) == 0xFF) {
                out.write(0);
            }
            buffer = 0;
            count = 0;
        }
    }
}
