package org.patientimages.localstack.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Lossless WebP images of one colour, written by the tests (no WebP encoder is on Maven Central): a {@code VP8L}
 * bitstream without transforms or colour cache whose five prefix codes each have a single symbol, so that every
 * pixel takes no bits at all. libwebp's {@code dwebp} decodes them as the colour given.
 */
public final class TestWebp {

    private TestWebp() {
    }

    /** A {@code width}×{@code height} image of the colour {@code rgb} (0xRRGGBB), opaque. */
    public static byte[] aSolidWebp(int width, int height, int rgb) {
        Bits bits = new Bits();
        bits.write(0x2f, 8); // the VP8L signature
        bits.write(width - 1, 14);
        bits.write(height - 1, 14);
        bits.write(0, 1); // no alpha used
        bits.write(0, 3); // version 0
        bits.write(0, 1); // no transform
        bits.write(0, 1); // no colour cache
        bits.write(0, 1); // no meta prefix codes
        // green, red, blue, alpha and distance, each a simple code of one 8-bit symbol
        for (int symbol : new int[] {rgb >> 8 & 0xff, rgb >> 16 & 0xff, rgb & 0xff, 0xff, 0}) {
            bits.write(1, 1); // simple code
            bits.write(0, 1); // one symbol
            bits.write(1, 1); // of 8 bits
            bits.write(symbol, 8);
        }
        byte[] vp8l = bits.bytes();
        int padded = vp8l.length + (vp8l.length & 1);
        ByteBuffer webp = ByteBuffer.allocate(20 + padded).order(ByteOrder.LITTLE_ENDIAN);
        webp.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(12 + padded)
                .put("WEBP".getBytes(StandardCharsets.US_ASCII))
                .put("VP8L".getBytes(StandardCharsets.US_ASCII)).putInt(vp8l.length).put(vp8l);
        return webp.array();
    }

    /** Bits written least significant first, as VP8L reads them. */
    private static final class Bits {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int current;
        private int used;

        void write(int value, int count) {
            for (int i = 0; i < count; i++) {
                current |= (value >> i & 1) << used;
                if (++used == 8) {
                    out.write(current);
                    current = 0;
                    used = 0;
                }
            }
        }

        byte[] bytes() {
            if (used > 0) {
                out.write(current);
                current = 0;
                used = 0;
            }
            return out.toByteArray();
        }
    }
}
