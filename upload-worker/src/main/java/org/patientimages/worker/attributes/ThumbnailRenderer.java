package org.patientimages.worker.attributes;

import net.coobird.thumbnailator.Thumbnails;

import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Renders the thumbnail of an image: a PNG at most {@value #MAX_SIDE} px on its long side, of raster images
 * (PNG, JPEG, TIFF…), of uncompressed DICOM frames (grey, palette colour, RGB, YBR), of JPEG baseline, JPEG
 * lossless and RLE DICOM frames and of a
 * PDF's first page (rendered by {@link PdfFile} in a child JVM of bounded heap and time, then {@link #scaled} here).
 * Memory stays bounded whatever the file declares: images larger than the pixel limit are refused from their header,
 * the rest are decoded subsampled (ImageIO source subsampling, or every n-th DICOM row and column read by position)
 * to at most about {@value #WORKING_SIDE} px before Thumbnailator scales them down; a lossless JPEG frame, which its
 * decoder holds whole, only up to {@value #LOSSLESS_MAX_PIXELS} pixels. {@link Readings} is what calls these.
 * Pure: no Spring, Kafka or S3 here.
 */
public final class ThumbnailRenderer {

    public static final int MAX_SIDE = 256;
    /** What images are decoded to before they are scaled down (a PDF's first page rendered to). */
    static final int WORKING_SIDE = 2 * MAX_SIDE;
    /** JPEG Baseline (Process 1): 8-bit lossy JPEG frames in encapsulated pixel data. */
    private static final String JPEG_BASELINE = "1.2.840.10008.1.2.4.50";
    /** JPEG Lossless (process 14, any predictor, and its selection value 1): CT and MR compressed losslessly. */
    private static final Set<String> JPEG_LOSSLESS = Set.of("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70");
    /** RLE Lossless: byte planes, each packed as PackBits (ultrasound, secondary captures, some archives). */
    private static final String RLE = "1.2.840.10008.1.2.5";
    private static final String YBR_FULL = "YBR_FULL";
    private static final String YBR_FULL_422 = "YBR_FULL_422";
    /** A lossless JPEG frame is decoded whole, 4 bytes a sample: CT, MR and ultrasound frames, not large radiographs. */
    static final long LOSSLESS_MAX_PIXELS = 4L * 1024 * 1024;
    /** More fragments than this for one frame are refused: no encoder splits a frame so finely. */
    private static final int MAX_FRAGMENTS = 10_000;
    private static final int ITEM = 0xFFFEE000;

    /** A rendered thumbnail: PNG bytes and their dimensions. */
    public record Thumbnail(byte[] png, int width, int height) {
    }

    private final long maxPixels;

    /** @param maxPixels the largest image (width × height) that is rendered at all */
    ThumbnailRenderer(long maxPixels) {
        this.maxPixels = maxPixels;
    }

    /** The thumbnail of an image decoded to about the working size (or smaller), as a PNG. */
    Thumbnail scaled(BufferedImage working) throws UnreadableFileException {
        double scale = Math.min(1.0, (double) MAX_SIDE / Math.max(working.getWidth(), working.getHeight()));
        int width = Math.max(1, (int) Math.round(working.getWidth() * scale));
        int height = Math.max(1, (int) Math.round(working.getHeight() * scale));
        try {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            Thumbnails.of(working).forceSize(width, height).outputFormat("png").toOutputStream(png);
            return new Thumbnail(png.toByteArray(), width, height);
        } catch (IOException e) {
            throw new UnreadableFileException("the thumbnail could not be encoded");
        }
    }

    /** A raster image (PNG, JPEG, TIFF, GIF, BMP), decoded subsampled to about the working size. */
    BufferedImage raster(Path file) throws UnreadableFileException {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            return decode(in);
        } catch (IOException e) {
            throw new UnreadableFileException("the image could not be decoded");
        }
    }

    /** The image of the stream, subsampled; refused from its header when it declares too many pixels. */
    private BufferedImage decode(ImageInputStream in) throws UnreadableFileException {
        try {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new UnreadableFileException("no decoder for this image format");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int width = reader.getWidth(0);
                int height = reader.getHeight(0);
                requireRenderable(width, height);
                ImageReadParam param = reader.getDefaultReadParam();
                int step = step(width, height);
                param.setSourceSubsampling(step, step, 0, 0);
                return reader.read(0, param);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw new UnreadableFileException("the image could not be decoded");
        }
    }

    /**
     * The first frame of the DICOM file whose walk found {@code dicom}, subsampled to about the working size. One
     * sample a pixel: grey ({@code MONOCHROME1/2}, through the rescale and the window) or {@code PALETTE COLOR}
     * (through its three lookup tables); three: {@code RGB}, {@code YBR_FULL} and, uncompressed,
     * {@code YBR_FULL_422} (converted from YCbCr as PS3.3 C.7.6.3.1.2 gives it), 8 bits each.
     */
    BufferedImage dicom(Path file, DicomFile dicom) throws UnreadableFileException {
        DicomFile.Pixels p = dicom.pixels();
        if (p == null) {
            throw new UnreadableFileException("the DICOM file has no pixel data with rows and columns");
        }
        Colours colours = colours(file, p);
        String transferSyntax = String.valueOf(dicom.attributes().get("TransferSyntaxUID"));
        if (p.encapsulated() && !transferSyntax.equals(RLE)) {
            return jpegFrame(file, p, transferSyntax, colours);
        }
        boolean ybr422 = p.photometric().equals(YBR_FULL_422);
        boolean threeSamples = p.samplesPerPixel() == 3 && p.bitsAllocated() == 8
                && (p.photometric().equals("RGB") || p.photometric().equals(YBR_FULL)
                        || ybr422 && !p.encapsulated() && p.columns() % 2 == 0);
        if (colours == null && !threeSamples) {
            throw new UnreadableFileException("DICOM " + p.photometric() + " with " + p.samplesPerPixel()
                    + " samples of " + p.bitsAllocated() + " bits is not rendered"
                    + (p.encapsulated() ? " from RLE" : ""));
        }
        if (colours != null && p.bitsAllocated() != 8 && p.bitsAllocated() != 16) {
            throw new UnreadableFileException("DICOM pixels of " + p.bitsAllocated() + " bits are not rendered");
        }
        requireRenderable(p.columns(), p.rows());
        if (p.encapsulated()) {
            return rleFrame(file, p, colours);
        }
        long pixels = (long) p.rows() * p.columns();
        long frameBytes = ybr422 ? pixels * 2 : pixels * p.samplesPerPixel() * (p.bitsAllocated() / 8);
        if (frameBytes > p.length()) {
            throw new UnreadableFileException("the DICOM pixel data is shorter than one frame of its declared size");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return colours != null ? oneSample(channel, p, colours)
                    : ybr422 ? ybr422(channel, p) : threeSamples(channel, p);
        } catch (IOException e) {
            throw new UnreadableFileException("the DICOM pixel data could not be read");
        }
    }

    /** How the samples of one-sample pixels, subsampled, become an image. */
    private interface Colours {
        BufferedImage of(int[] samples, int width, int height);
    }

    /**
     * The colours of one-sample pixels: grey through the rescale and the window, or the palette's (its tables read
     * from the file here, at most 3 × 128 KiB); null for any other kind of pixels.
     */
    private static Colours colours(Path file, DicomFile.Pixels p) throws UnreadableFileException {
        if (p.samplesPerPixel() != 1) {
            return null;
        }
        if (p.photometric().startsWith("MONOCHROME")) {
            return (samples, width, height) -> grey(p, samples, width, height);
        }
        if (!p.photometric().equals("PALETTE COLOR")) {
            return null;
        }
        if (p.palette() == null) {
            throw new UnreadableFileException("DICOM PALETTE COLOR without its three lookup tables (or with segmented "
                    + "ones) is not rendered");
        }
        int[][] tables = palette(file, p);
        return (samples, width, height) -> paletted(p, tables, samples, width, height);
    }

    /**
     * The three lookup tables, each as 8-bit values: entries of 16 bits keep their high byte. Entries of 8 bits are
     * one a byte, as the standard has it; tables that say 8 bits but hold 16-bit words (older files) are read as
     * words, their high byte taken if any value needs it.
     */
    private static int[][] palette(Path file, DicomFile.Pixels p) throws UnreadableFileException {
        int[][] tables = new int[3][];
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int c = 0; c < 3; c++) {
                DicomFile.Lut lut = p.palette().get(c);
                int entries = lut.entries() == 0 ? 65_536 : lut.entries();
                if (lut.bits() != 8 && lut.bits() != 16) {
                    throw new UnreadableFileException("a palette lookup table of " + lut.bits() + "-bit entries");
                }
                boolean bytes = lut.bits() == 8 && lut.length() < 2L * entries;
                if (lut.length() < (bytes ? entries : 2L * entries)) {
                    throw new UnreadableFileException("a palette lookup table is shorter than its descriptor says");
                }
                ByteBuffer data = ByteBuffer.allocate(bytes ? entries : 2 * entries)
                        .order(p.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
                readFully(channel, data, lut.offset());
                int[] values = new int[entries];
                int max = 0;
                for (int i = 0; i < entries; i++) {
                    values[i] = bytes ? data.get(i) & 0xff : data.getShort(2 * i) & 0xffff;
                    max = Math.max(max, values[i]);
                }
                if (!bytes && (lut.bits() == 16 || max > 255)) {
                    for (int i = 0; i < entries; i++) {
                        values[i] >>>= 8;
                    }
                }
                tables[c] = values;
            }
        } catch (IOException e) {
            throw new UnreadableFileException("the DICOM palette could not be read");
        }
        return tables;
    }

    /**
     * Stored samples (their stored bits) through the palette: a value below the first mapped one takes the first
     * entry, one past the last the last (PS3.3 C.7.6.3.1.5).
     */
    private static BufferedImage paletted(DicomFile.Pixels p, int[][] tables, int[] samples, int width, int height) {
        int shift = 32 - Math.min(p.bitsStored(), p.bitsAllocated());
        int[] firstMapped = p.palette().stream().mapToInt(DicomFile.Lut::firstMapped).toArray();
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < samples.length; i++) {
            int stored = (samples[i] << shift) >>> shift;
            int rgb = 0;
            for (int c = 0; c < 3; c++) {
                int[] table = tables[c];
                int entry = Math.max(0, Math.min(table.length - 1, stored - firstMapped[c]));
                rgb = rgb << 8 | table[entry];
            }
            image.setRGB(i % width, i / width, rgb);
        }
        return image;
    }

    /** Three 8-bit samples as an RGB value: as they are, or from YCbCr of full range (YBR_FULL, YBR_FULL_422). */
    private static int rgb(boolean ybr, int first, int second, int third) {
        if (!ybr) {
            return first << 16 | second << 8 | third;
        }
        double cb = second - 128;
        double cr = third - 128;
        return level(first + 1.402 * cr) << 16 | level(first - 0.344136 * cb - 0.714136 * cr) << 8
                | level(first + 1.772 * cb);
    }

    private static int level(double value) {
        return (int) Math.max(0, Math.min(255, Math.round(value)));
    }

    /**
     * The first frame of JPEG pixel data, decoded by ImageIO straight from the file: JPEG baseline (8 bits, the
     * commonest compressed DICOM of ultrasound, endoscopy and secondary captures) subsampled as it is decoded, and
     * JPEG lossless (CT and MR, 12 or 16 bits), whose samples then become grey or colours as uncompressed ones do.
     * RLE is {@link #rleFrame}; JPEG 2000 and JPEG-LS are not rendered.
     */
    private BufferedImage jpegFrame(Path file, DicomFile.Pixels p, String transferSyntax, Colours colours)
            throws UnreadableFileException {
        boolean lossless = JPEG_LOSSLESS.contains(transferSyntax);
        if (!lossless && !transferSyntax.equals(JPEG_BASELINE)) {
            throw new UnreadableFileException("compressed DICOM pixel data of transfer syntax " + transferSyntax
                    + " is not rendered");
        }
        requireRenderable(p.columns(), p.rows());
        if (lossless && (long) p.columns() * p.rows() > LOSSLESS_MAX_PIXELS) {
            throw new UnreadableFileException("a lossless JPEG frame of " + p.columns() + "×" + p.rows()
                    + " pixels is larger than the " + LOSSLESS_MAX_PIXELS + " rendered");
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
             ImageInputStream in = new FileRanges(channel, firstFrame(channel, p))) {
            BufferedImage frame = decode(in);
            return lossless && colours != null ? oneSample(frame, colours) : frame;
        } catch (IOException e) {
            throw new UnreadableFileException("the DICOM JPEG frame could not be read: " + e.getMessage());
        }
    }

    /**
     * The first frame of RLE Lossless pixel data, unpacked as it is read and subsampled as it goes: only every n-th
     * row and column of each byte plane is kept, so memory is the working size's whatever the frame's. 8- or 16-bit
     * samples then become grey or colours as uncompressed ones do; RGB or YBR_FULL is its three planes.
     */
    private static BufferedImage rleFrame(Path file, DicomFile.Pixels p, Colours colours)
            throws UnreadableFileException {
        int step = step(p.columns(), p.rows());
        int width = ceilDiv(p.columns(), step);
        int height = ceilDiv(p.rows(), step);
        int planes = colours != null ? p.bitsAllocated() / 8 : 3;
        int[][] kept = new int[planes][width * height];
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
             ImageInputStream in = new FileRanges(channel, firstFrame(channel, p))) {
            long[] segments = rleSegments(in, planes);
            for (int plane = 0; plane < planes; plane++) {
                unpack(in, segments[plane], segments[plane + 1], p.columns(), p.rows(), step, width, kept[plane]);
            }
        } catch (IOException e) {
            throw new UnreadableFileException("the DICOM RLE frame could not be read: " + e.getMessage());
        }
        if (colours != null) {
            int[] raw = kept[0];
            if (planes == 2) {
                for (int i = 0; i < raw.length; i++) {
                    raw[i] = raw[i] << 8 | kept[1][i];
                }
            }
            return colours.of(raw, width, height);
        }
        boolean ybr = p.photometric().equals(YBR_FULL);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < width * height; i++) {
            image.setRGB(i % width, i / width, rgb(ybr, kept[0][i], kept[1][i], kept[2][i]));
        }
        return image;
    }

    /**
     * The RLE header's segment offsets, checked: as many segments as the pixels have byte planes, each starting
     * after the 64-byte header and the one before, within the frame; the frame's end closes the last.
     */
    private static long[] rleSegments(ImageInputStream in, int planes) throws IOException {
        in.setByteOrder(ByteOrder.LITTLE_ENDIAN);
        if (in.length() < 64 || in.readInt() != planes) {
            throw new IOException("its header does not declare " + planes + " segments");
        }
        long[] segments = new long[planes + 1];
        segments[planes] = in.length();
        for (int i = 0; i < planes; i++) {
            segments[i] = Integer.toUnsignedLong(in.readInt());
            if (segments[i] < (i == 0 ? 64 : segments[i - 1] + 1) || segments[i] >= in.length()) {
                throw new IOException("a segment offset is out of order or past the frame");
            }
        }
        return segments;
    }

    /**
     * One PackBits segment of {@code columns × rows} bytes: a count n, then n + 1 bytes as they are (n of 0 to 127)
     * or one byte repeated 1 - n times (n of -1 to -127; -128 is nothing). The bytes of every {@code step}-th row
     * and column go to {@code kept}; a segment that ends before its plane is refused, what follows its plane is
     * padding and is not read.
     */
    private static void unpack(ImageInputStream in, long start, long end, int columns, int rows, int step, int width,
                               int[] kept) throws IOException {
        in.seek(start);
        SegmentBytes bytes = new SegmentBytes(in, end - start);
        int x = 0;
        int y = 0;
        while (y < rows) {
            int n = (byte) bytes.next();
            if (n == -128) {
                continue;
            }
            boolean literal = n >= 0;
            int count = literal ? n + 1 : 1 - n;
            int repeated = literal ? 0 : bytes.next();
            for (int k = 0; k < count && y < rows; k++) {
                int value = literal ? bytes.next() : repeated;
                if (y % step == 0 && x % step == 0) {
                    kept[(y / step) * width + x / step] = value;
                }
                if (++x == columns) {
                    x = 0;
                    y++;
                }
            }
        }
    }

    /** A segment's bytes, read from the frame 64 KiB at a time. */
    private static final class SegmentBytes {

        private final ImageInputStream in;
        private final byte[] buffer = new byte[64 * 1024];
        private long left;
        private int filled;
        private int at;

        SegmentBytes(ImageInputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        int next() throws IOException {
            if (at == filled) {
                if (left == 0) {
                    throw new IOException("a segment ends before its plane");
                }
                filled = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (filled <= 0) {
                    throw new IOException("the frame ends early");
                }
                left -= filled;
                at = 0;
            }
            return buffer[at++] & 0xff;
        }
    }

    /**
     * Where the first frame's bytes lie: the fragments after the basic offset table. A single frame may be split
     * over several fragments (an encoder's choice), which together are its JPEG stream; of several frames, the
     * first fragment is the first frame's.
     */
    private static List<long[]> firstFrame(FileChannel channel, DicomFile.Pixels p) throws IOException {
        long end = p.offset() + p.length();
        long at = p.offset() + 8 + item(channel, p.offset(), end).length(); // past the basic offset table
        List<long[]> fragments = new ArrayList<>();
        Item item = item(channel, at, end);
        while (true) {
            fragments.add(new long[] {at + 8, item.length()});
            at += 8 + item.length();
            if (fragments.size() > MAX_FRAGMENTS) {
                throw new IOException("the frame has more than " + MAX_FRAGMENTS + " fragments");
            }
            if (p.frames() != 1 || at + 8 > end) {
                return fragments;
            }
            item = header(channel, at);
            if (item.tag() != ITEM) {
                return fragments; // the sequence's delimiter
            }
            item(item, at, end);
        }
    }

    /** An item's tag and length, as its 8-byte header says. */
    private record Item(int tag, long length) {
    }

    private static Item header(FileChannel channel, long at) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, header, at);
        return new Item(Short.toUnsignedInt(header.getShort(0)) << 16 | Short.toUnsignedInt(header.getShort(2)),
                Integer.toUnsignedLong(header.getInt(4)));
    }

    /** The item whose header is at {@code at}, checked to be an item that ends before {@code end}. */
    private static Item item(FileChannel channel, long at, long end) throws IOException {
        if (at + 8 > end) {
            throw new IOException("the pixel data ends before its items");
        }
        return item(header(channel, at), at, end);
    }

    private static Item item(Item item, long at, long end) throws IOException {
        if (item.tag() != ITEM || at + 8 + item.length() > end) {
            throw new IOException("a pixel data item is malformed");
        }
        return item;
    }

    /**
     * Byte ranges of a file (a frame's fragments) as one stream, as ImageIO reads them, without copying them
     * anywhere first.
     */
    private static final class FileRanges extends javax.imageio.stream.ImageInputStreamImpl {

        private final FileChannel channel;
        private final List<long[]> ranges;
        /** Where each range starts in the stream; the last entry is the stream's length. */
        private final long[] starts;

        FileRanges(FileChannel channel, List<long[]> ranges) {
            this.channel = channel;
            this.ranges = ranges;
            this.starts = new long[ranges.size() + 1];
            for (int i = 0; i < ranges.size(); i++) {
                starts[i + 1] = starts[i] + ranges.get(i)[1];
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            checkClosed();
            bitOffset = 0;
            if (streamPos >= length()) {
                return -1;
            }
            // the range holding streamPos: the last one that starts at or before it (empty ranges skipped)
            int i = java.util.Arrays.binarySearch(starts, streamPos);
            i = i >= 0 ? i : -i - 2;
            while (starts[i + 1] == streamPos) {
                i++;
            }
            long within = streamPos - starts[i];
            long[] range = ranges.get(i);
            int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, range[1] - within)), range[0] + within);
            if (n > 0) {
                streamPos += n;
            }
            return n;
        }

        @Override
        public long length() {
            return starts[starts.length - 1];
        }

        @Override
        public void close() throws IOException {
            super.close(); // the channel is the caller's
        }
    }

    /** Every n-th row and column of the first frame of one-sample pixels, to grey or colours. */
    private static BufferedImage oneSample(FileChannel channel, DicomFile.Pixels p, Colours colours)
            throws IOException {
        int step = step(p.columns(), p.rows());
        int width = ceilDiv(p.columns(), step);
        int height = ceilDiv(p.rows(), step);
        int bytes = p.bitsAllocated() / 8;
        int[] raw = new int[width * height];
        ByteBuffer row = ByteBuffer.allocate(p.columns() * bytes)
                .order(p.bigEndian() ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        for (int y = 0; y < height; y++) {
            readFully(channel, row.clear(), p.offset() + (long) y * step * row.capacity());
            for (int x = 0; x < width; x++) {
                raw[y * width + x] = bytes == 1 ? row.get(x * step) & 0xff : row.getShort(x * step * 2) & 0xffff;
            }
        }
        return colours.of(raw, width, height);
    }

    /** A decoded one-sample frame's samples (as stored), subsampled to the working size, to grey or colours. */
    private static BufferedImage oneSample(BufferedImage frame, Colours colours) {
        int step = step(frame.getWidth(), frame.getHeight());
        int width = ceilDiv(frame.getWidth(), step);
        int height = ceilDiv(frame.getHeight(), step);
        java.awt.image.Raster raster = frame.getRaster();
        int[] raw = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                raw[y * width + x] = raster.getSample(x * step, y * step, 0);
            }
        }
        return colours.of(raw, width, height);
    }

    /**
     * Stored samples to 8-bit grey: their stored bits (sign-extended when the pixels are signed), through the
     * modality rescale, then the window (or the values' own range without one), inverted for MONOCHROME1.
     */
    private static BufferedImage grey(DicomFile.Pixels p, int[] raw, int width, int height) {
        int shift = 32 - Math.min(p.bitsStored(), p.bitsAllocated());
        double[] values = new double[raw.length];
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (int i = 0; i < raw.length; i++) {
            int stored = p.signed() ? (raw[i] << shift) >> shift : (raw[i] << shift) >>> shift;
            double value = stored * p.slope() + p.intercept();
            values[i] = value;
            min = Math.min(min, value);
            max = Math.max(max, value);
        }
        double low = min;
        double high = max;
        if (p.windowCenter() != null && p.windowWidth() != null && p.windowWidth() >= 1) {
            low = p.windowCenter() - p.windowWidth() / 2;
            high = p.windowCenter() + p.windowWidth() / 2;
        }
        boolean invert = p.photometric().equals("MONOCHROME1");
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] gray = ((java.awt.image.DataBufferByte) image.getRaster().getDataBuffer()).getData();
        double range = Math.max(high - low, 1e-9);
        for (int i = 0; i < values.length; i++) {
            int level = (int) Math.round(Math.max(0.0, Math.min(1.0, (values[i] - low) / range)) * 255);
            gray[i] = (byte) (invert ? 255 - level : level);
        }
        return image;
    }

    /** Every n-th row and column of the first frame of 8-bit RGB or YBR_FULL, interleaved or planar. */
    private static BufferedImage threeSamples(FileChannel channel, DicomFile.Pixels p) throws IOException {
        boolean ybr = p.photometric().equals(YBR_FULL);
        int step = step(p.columns(), p.rows());
        int width = ceilDiv(p.columns(), step);
        int height = ceilDiv(p.rows(), step);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        long plane = (long) p.rows() * p.columns();
        boolean planar = p.planarConfiguration() == 1;
        ByteBuffer row = ByteBuffer.allocate(p.columns() * (planar ? 1 : 3));
        int[][] channels = new int[3][width];
        for (int y = 0; y < height; y++) {
            long rowStart = (long) y * step * p.columns();
            for (int c = 0; c < (planar ? 3 : 1); c++) {
                long at = planar ? p.offset() + c * plane + rowStart : p.offset() + rowStart * 3;
                readFully(channel, row.clear(), at);
                for (int x = 0; x < width; x++) {
                    if (planar) {
                        channels[c][x] = row.get(x * step) & 0xff;
                    } else {
                        for (int k = 0; k < 3; k++) {
                            channels[k][x] = row.get(x * step * 3 + k) & 0xff;
                        }
                    }
                }
            }
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, rgb(ybr, channels[0][x], channels[1][x], channels[2][x]));
            }
        }
        return image;
    }

    /**
     * Every n-th row and column of the first frame of YBR_FULL_422 (an even number of columns): each two pixels of a
     * row are four bytes, Y of the first, Y of the second, then the Cb and Cr they share.
     */
    private static BufferedImage ybr422(FileChannel channel, DicomFile.Pixels p) throws IOException {
        int step = step(p.columns(), p.rows());
        int width = ceilDiv(p.columns(), step);
        int height = ceilDiv(p.rows(), step);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int rowBytes = p.columns() * 2;
        ByteBuffer row = ByteBuffer.allocate(rowBytes);
        for (int y = 0; y < height; y++) {
            readFully(channel, row.clear(), p.offset() + (long) y * step * rowBytes);
            for (int x = 0; x < width; x++) {
                int column = x * step;
                int pair = column / 2 * 4;
                int luma = row.get(pair + column % 2) & 0xff;
                image.setRGB(x, y, rgb(true, luma, row.get(pair + 2) & 0xff, row.get(pair + 3) & 0xff));
            }
        }
        return image;
    }

    private void requireRenderable(int width, int height) throws UnreadableFileException {
        if (width <= 0 || height <= 0) {
            throw new UnreadableFileException("the image declares no pixels");
        }
        if ((long) width * height > maxPixels) {
            throw new UnreadableFileException("the image declares " + width + "×" + height
                    + " pixels, more than the " + maxPixels + " rendered");
        }
    }

    /** The subsampling step that brings the long side to about {@link #WORKING_SIDE}. */
    private static int step(int width, int height) {
        return Math.max(1, Math.max(width, height) / WORKING_SIDE);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long at) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, at + buffer.position()) < 0) {
                throw new IOException("pixel data ends early");
            }
        }
        buffer.flip();
    }
}
