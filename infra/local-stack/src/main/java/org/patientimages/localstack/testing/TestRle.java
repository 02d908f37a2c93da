package org.patientimages.localstack.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * DICOM RLE Lossless (PS3.5 Annex G) for the tests' DICOM files: a frame as one fragment, a 64-byte header of
 * segment offsets, then one PackBits segment per byte plane (for 16-bit samples the high bytes, then the low ones;
 * for RGB the red, green and blue planes), each of even length.
 */
public final class TestRle {

    public static final String TRANSFER_SYNTAX = "1.2.840.10008.1.2.5";

    private TestRle() {
    }

    /** A frame of 16-bit samples: two segments, high bytes first. */
    public static byte[] encode(short[] samples) {
        byte[] high = new byte[samples.length];
        byte[] low = new byte[samples.length];
        for (int i = 0; i < samples.length; i++) {
            high[i] = (byte) (samples[i] >> 8);
            low[i] = (byte) samples[i];
        }
        return frame(high, low);
    }

    /** A frame of these byte planes, one segment each (1 for 8-bit grey, 3 for RGB). */
    public static byte[] frame(byte[]... planes) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putInt(planes.length);
        for (byte[] plane : planes) {
            header.putInt(64 + body.size());
            byte[] segment = packBits(plane);
            body.writeBytes(segment);
            if (segment.length % 2 == 1) {
                body.write(0); // padding, past the plane's end
            }
        }
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.writeBytes(header.array());
        frame.writeBytes(body.toByteArray());
        return frame.toByteArray();
    }

    /** PackBits: a run of 3 to 128 equal bytes as {@code 1 - n} and the byte, other bytes as literals of up to 128. */
    private static byte[] packBits(byte[] plane) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < plane.length) {
            int run = 1;
            while (i + run < plane.length && run < 128 && plane[i + run] == plane[i]) {
                run++;
            }
            if (run >= 3) {
                out.write(1 - run);
                out.write(plane[i]);
                i += run;
                continue;
            }
            int start = i;
            while (i < plane.length && i - start < 128
                    && !(i + 2 < plane.length && plane[i] == plane[i + 1] && plane[i] == plane[i + 2])) {
                i++;
            }
            out.write(i - start - 1);
            out.write(plane, start, i - start);
        }
        return out.toByteArray();
    }
}
