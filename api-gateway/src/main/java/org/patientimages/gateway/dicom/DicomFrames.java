package org.patientimages.gateway.dicom;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A DICOM file's frames as WADO-RS's frames resource answers them (PS3.18 §10.4.1.1.4): a frame of native pixel
 * data is its bytes, read from the file by their position; a frame of encapsulated (compressed) pixel data is its
 * fragments' bytes, found by the Basic Offset Table, or as the one frame of a file, or as one fragment a frame. The
 * bytes come from a ranged read of the stored file.
 */
public final class DicomFrames {

    private static final int NUMBER_OF_FRAMES = 0x00280008;
    private static final int SAMPLES_PER_PIXEL = 0x00280002;
    private static final int ROWS = 0x00280010;
    private static final int COLUMNS = 0x00280011;
    private static final int BITS_ALLOCATED = 0x00280100;
    private static final int ITEM = 0xFFFEE000;
    private static final int SEQUENCE_END = 0xFFFEE0DD;
    /** The most frames an offset table is read for (4 bytes each). */
    private static final int MAX_FRAMES = 1 << 20;
    /** Explicit VR little endian: what a native frame's bytes are in, whatever the file's own syntax. */
    public static final String EXPLICIT_LITTLE = "1.2.840.10008.1.2.1";

    /** Reads the stored file's bytes {@code from} to {@code to}, both included. */
    public interface Source {
        InputStream open(long from, long to) throws IOException;
    }

    /** A frame that cannot be given: {@code why}. */
    public static final class Unavailable extends RuntimeException {
        Unavailable(String why) {
            super(why);
        }
    }

    private DicomFrames() {
    }

    /** How many frames the file has. */
    public static int count(DicomMetadata.DataSet dataSet) {
        return Math.max(1, dataSet.integer(NUMBER_OF_FRAMES, 1));
    }

    /**
     * The media type of a frame's bytes (PS3.18 §8.7.3.5.2): {@code application/octet-stream} for native pixels,
     * the image type of a compressed one ({@code image/jpeg}…), or octet-stream again for one without its own.
     */
    public static String mediaType(DicomMetadata.DataSet dataSet) {
        if (!dataSet.pixels().encapsulated() || dataSet.transferSyntax() == null) {
            return "application/octet-stream";
        }
        return switch (dataSet.transferSyntax()) {
            case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                 "1.2.840.10008.1.2.4.70" -> "image/jpeg";
            case "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81" -> "image/jls";
            case "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91" -> "image/jp2";
            case "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93" -> "image/jpx";
            case "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203" -> "image/jphc";
            case "1.2.840.10008.1.2.5" -> "image/dicom-rle";
            default -> "application/octet-stream";
        };
    }

    /** The transfer syntax a frame's bytes are in. */
    public static String transferSyntax(DicomMetadata.DataSet dataSet) {
        return dataSet.pixels().encapsulated() ? dataSet.transferSyntax() : EXPLICIT_LITTLE;
    }

    /**
     * Checks that the file's frames can be given at all: it has pixel data, native pixels come in whole bytes and in
     * little endian order.
     */
    public static void requireReadable(DicomMetadata.DataSet dataSet) {
        DicomMetadata.PixelData pixels = dataSet.pixels();
        if (pixels == null) {
            throw new Unavailable("the instance has no pixel data");
        }
        int bits = dataSet.integer(BITS_ALLOCATED, 0);
        if (!pixels.encapsulated() && (bits == 0 || bits % 8 != 0)) {
            throw new Unavailable("its pixels are " + bits + " bits each, not whole bytes");
        }
        if (!pixels.encapsulated() && dataSet.bigEndian() && bits > 16) {
            throw new Unavailable("its pixel data is big endian in " + bits + "-bit words (retrieve the instance)");
        }
    }

    /** Writes frame {@code frame} (from 1) of a file of {@code fileSize} bytes to {@code out}. */
    public static void write(DicomMetadata.DataSet dataSet, long fileSize, int frame, Source file, OutputStream out)
            throws IOException {
        // a damaged file's lengths and offsets may point anywhere: only its own bytes are ever asked for
        Source source = (from, to) -> {
            if (from < 0 || to < from || to >= fileSize) {
                throw new Unavailable("its pixel data goes past the end of the file");
            }
            return file.open(from, to);
        };
        DicomMetadata.PixelData pixels = dataSet.pixels();
        int frames = count(dataSet);
        if (!pixels.encapsulated()) {
            long size = (long) dataSet.integer(ROWS, 0) * dataSet.integer(COLUMNS, 0)
                    * dataSet.integer(SAMPLES_PER_PIXEL, 1) * (dataSet.integer(BITS_ALLOCATED, 0) / 8);
            long start = pixels.offset() + (frame - 1) * size;
            if (size == 0 || start + size > pixels.offset() + pixels.length()) {
                throw new Unavailable("its pixel data is shorter than its rows, columns and frames say");
            }
            try (InputStream in = source.open(start, start + size - 1)) {
                // big endian 16-bit words become little endian, as the frame's transfer syntax says
                copy(in, out, size, dataSet.bigEndian() && dataSet.integer(BITS_ALLOCATED, 0) == 16);
            }
            return;
        }
        // each read below is of exactly the bytes needed, so that no connection is drained of a large file's rest
        long table = itemAt(source, pixels.offset());
        if (table < 0) {
            throw new Unavailable("its pixel data has no offset table");
        }
        long base = pixels.offset() + 8 + table;
        if (base + 8 > fileSize || table > 4L * Math.min(frames, MAX_FRAMES)) {
            throw new Unavailable("its offset table is longer than its frames or the file");
        }
        long[] offsets = new long[(int) Math.min(table / 4, frames + 1L)];
        if (offsets.length > 0) {
            try (InputStream in = source.open(pixels.offset() + 8, base - 1)) {
                ByteBuffer read = ByteBuffer.wrap(in.readNBytes((int) table)).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < offsets.length; i++) {
                    offsets[i] = Integer.toUnsignedLong(read.getInt());
                }
            }
        }
        if (offsets.length >= frames || frames == 1) {
            // the frame's fragments lie from its offset to the next frame's, or to the sequence's end
            long start = base + (offsets.length == 0 ? 0 : offsets[frame - 1]);
            long end = frame < frames ? base + offsets[frame] : fileSize;
            if (end <= start || end > fileSize) {
                throw new Unavailable("its offset table does not name where the frame lies in the file");
            }
            try (InputStream in = source.open(start, end - 1)) {
                for (long at = start, length; at < end && (length = item(in)) >= 0; at += 8 + length) {
                    copy(in, out, length);
                }
            }
            return;
        }
        // no offsets: one fragment a frame, found by walking the fragments' headers
        long at = base;
        for (int i = 1; i < frame; i++) {
            long length = itemAt(source, at);
            if (length < 0) {
                throw new Unavailable("its pixel data has fewer fragments than frames");
            }
            at += 8 + length;
            if (at + 8 > fileSize) {
                throw new Unavailable("its fragments go past the end of the file");
            }
        }
        long length = itemAt(source, at);
        if (length < 0) {
            throw new Unavailable("its pixel data has fewer fragments than frames");
        }
        if (at + 8 + length > fileSize) {
            throw new Unavailable("its fragments go past the end of the file");
        }
        try (InputStream in = source.open(at + 8, at + 8 + length - 1)) {
            copy(in, out, length);
        }
    }

    /** The length of the item whose header is at {@code at}; -1 for the sequence's end. */
    private static long itemAt(Source source, long at) throws IOException {
        try (InputStream in = source.open(at, at + 7)) {
            return item(in);
        }
    }

    /** The next item's length, after its header; -1 at the sequence's end. */
    private static long item(InputStream in) throws IOException {
        byte[] header = in.readNBytes(8);
        if (header.length < 8) {
            throw new EOFException("the pixel data ends before its sequence's end");
        }
        ByteBuffer b = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
        int tag = Short.toUnsignedInt(b.getShort()) << 16 | Short.toUnsignedInt(b.getShort());
        long length = Integer.toUnsignedLong(b.getInt());
        if (tag == SEQUENCE_END) {
            return -1;
        }
        if (tag != ITEM || length == 0xFFFFFFFFL) {
            throw new Unavailable("its pixel data holds something other than fragments");
        }
        return length;
    }

    private static void copy(InputStream in, OutputStream out, long length) throws IOException {
        copy(in, out, length, false);
    }

    /** Copies {@code length} bytes; {@code swap}: the bytes of each 16-bit word swapped ({@code length} is even). */
    private static void copy(InputStream in, OutputStream out, long length, boolean swap) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        for (long left = length; left > 0; ) {
            int n = in.readNBytes(buffer, 0, (int) Math.min(buffer.length, left));
            if (n == 0) {
                throw new EOFException("the stored file ends within its pixel data");
            }
            for (int i = 0; swap && i + 1 < n; i += 2) {
                byte b = buffer[i];
                buffer[i] = buffer[i + 1];
                buffer[i + 1] = b;
            }
            out.write(buffer, 0, n);
            left -= n;
        }
    }
}
