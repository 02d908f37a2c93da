package org.patientimages.worker.attributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.localstack.testing.TestDicom;
import org.patientimages.localstack.testing.TestImages;
import org.patientimages.localstack.testing.TestJpegLossless;
import org.patientimages.localstack.testing.TestPdf;
import org.patientimages.localstack.testing.TestRle;
import org.patientimages.localstack.testing.TestWebp;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ThumbnailRendererTest {

    @TempDir
    Path dir;

    private final Readings readings = new Readings(100_000_000L, PdfFileTest.PDFS);

    /** The thumbnail rendered as an upload's is, or why not. */
    private BufferedImage render(byte[] bytes, String contentType) throws Exception {
        Step<ThumbnailRenderer.Thumbnail> rendered = readings.read(Files.write(dir.resolve("f"), bytes), contentType)
                .thumbnail();
        if (rendered.skipped() != null) {
            throw rendered.skipped();
        }
        ThumbnailRenderer.Thumbnail thumbnail = rendered.value();
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(thumbnail.png()));
        assertThat(png.getWidth()).isEqualTo(thumbnail.width());
        assertThat(png.getHeight()).isEqualTo(thumbnail.height());
        return png;
    }

    @Test
    void large_rasters_shrink_to_256_on_the_long_side_and_keep_their_aspect() throws Exception {
        BufferedImage png = render(TestImages.aPngImage(1200, 600), "image/png");
        assertThat(png.getWidth()).isEqualTo(256);
        assertThat(png.getHeight()).isEqualTo(128);
        BufferedImage jpeg = render(TestImages.aJpegImage(300, 900), "image/jpeg");
        assertThat(jpeg.getWidth()).isEqualTo(85);
        assertThat(jpeg.getHeight()).isEqualTo(256);
    }

    @Test
    void a_webp_photo_gets_its_thumbnail_and_its_dimensions() throws Exception {
        BufferedImage png = render(TestWebp.aSolidWebp(600, 300, 0x3366cc), "image/webp");
        assertThat(png.getWidth()).isEqualTo(256);
        assertThat(png.getHeight()).isEqualTo(128);
        assertThat(png.getRGB(100, 50) & 0xffffff).isEqualTo(0x3366cc);
        assertThat(readings.read(Files.write(dir.resolve("photo.webp"), TestWebp.aSolidWebp(600, 300, 0x3366cc)),
                "image/webp").attributes().value()).containsEntry("width", 600).containsEntry("height", 300);
    }

    @Test
    void a_lossy_webp_photo_gets_its_thumbnail_too() throws Exception {
        // 96 × 64, red on the left, blue on the right: made by libwebp's cwebp 1.2.4 (-q 80) from a PNG
        byte[] lossy;
        try (var in = getClass().getResourceAsStream("/images/halves-lossy.webp")) {
            lossy = in.readAllBytes();
        }
        BufferedImage png = render(lossy, "image/webp");
        assertThat(png.getWidth()).isEqualTo(96);
        assertThat(png.getHeight()).isEqualTo(64);
        assertThat(new java.awt.Color(png.getRGB(10, 32)).getRed()).isGreaterThan(200);
        assertThat(new java.awt.Color(png.getRGB(85, 32)).getBlue()).isGreaterThan(200);
    }

    @Test
    void small_images_are_not_enlarged() throws Exception {
        BufferedImage png = render(TestImages.aPngImage(40, 30), "image/png");
        assertThat(png.getWidth()).isEqualTo(40);
        assertThat(png.getHeight()).isEqualTo(30);
    }

    @Test
    void a_ct_slice_is_windowed_to_grey_levels() throws Exception {
        for (String syntax : new String[] {TestDicom.IMPLICIT_LITTLE, TestDicom.EXPLICIT_LITTLE, TestDicom.EXPLICIT_BIG}) {
            BufferedImage png = render(TestDicom.ctSlice(600, 600).transferSyntax(syntax).toBytes(), "application/dicom");
            assertThat(png.getWidth()).isEqualTo(256);
            assertThat(png.getHeight()).isEqualTo(256);
            // the ramp runs from -1000 to 1000 HU and the window from -160 to 240: black, then grey, then white
            assertThat(png.getRaster().getSample(2, 128, 0)).isZero();
            assertThat(png.getRaster().getSample(253, 128, 0)).isEqualTo(255);
            assertThat(png.getRaster().getSample(128, 128, 0)).isBetween(90, 170);
        }
    }

    @Test
    void an_rgb_dicom_frame_keeps_its_colours() throws Exception {
        byte[] rgb = new byte[20 * 10 * 3];
        for (int i = 0; i < rgb.length; i += 3) {
            rgb[i] = (byte) 200;
            rgb[i + 2] = (byte) 50;
        }
        byte[] dicom = TestDicom.dataSet().us(0x00280002, 3).string(0x00280004, "CS", "RGB").us(0x00280010, 10)
                .us(0x00280011, 20).us(0x00280100, 8).us(0x00280101, 8).us(0x00280006, 0).pixels(rgb).toBytes();
        BufferedImage png = render(dicom, "application/dicom");
        assertThat(png.getWidth()).isEqualTo(20);
        assertThat(png.getRGB(5, 5) & 0xffffff).isEqualTo(200 << 16 | 50);
    }

    /** Three lookup tables of 256 16-bit entries: red rises with the index, green falls, blue stays at half. */
    private static TestDicom withPalette(TestDicom dicom, int firstMapped) {
        for (int c = 0; c < 3; c++) {
            java.nio.ByteBuffer table = java.nio.ByteBuffer.allocate(512).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 256; i++) {
                table.putShort((short) ((c == 0 ? i : c == 1 ? 255 - i : 128) * 257));
            }
            dicom.bytes(0x00281101 + c, "US", descriptor(256, firstMapped, 16))
                    .bytes(0x00281201 + c, "OW", table.array());
        }
        return dicom.string(0x00280004, "CS", "PALETTE COLOR").us(0x00280002, 1);
    }

    private static byte[] descriptor(int entries, int firstMapped, int bits) {
        return java.nio.ByteBuffer.allocate(6).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort((short) entries)
                .putShort((short) firstMapped).putShort((short) bits).array();
    }

    @Test
    void a_palette_colour_dicom_frame_takes_its_colours_from_its_lookup_tables() throws Exception {
        byte[] indices = new byte[20 * 10];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = (byte) (i % 20 < 10 ? 10 : i % 20 < 15 ? 200 : 2);
        }
        TestDicom dicom = withPalette(TestDicom.dataSet(), 0).us(0x00280010, 10).us(0x00280011, 20)
                .us(0x00280100, 8).us(0x00280101, 8).us(0x00280103, 0);
        BufferedImage png = render(dicom.pixels(indices).toBytes(), "application/dicom");
        assertThat(png.getRGB(5, 5) & 0xffffff).isEqualTo(10 << 16 | 245 << 8 | 128);
        assertThat(png.getRGB(12, 5) & 0xffffff).isEqualTo(200 << 16 | 55 << 8 | 128);
        // a table whose first entry maps 5: index 10 is its entry 5, index 2 (below) its first
        BufferedImage shifted = render(withPalette(TestDicom.dataSet(), 5).us(0x00280010, 10).us(0x00280011, 20)
                .us(0x00280100, 8).us(0x00280101, 8).pixels(indices).toBytes(), "application/dicom");
        assertThat(shifted.getRGB(5, 5) & 0xffffff).isEqualTo(5 << 16 | 250 << 8 | 128);
        assertThat(shifted.getRGB(17, 5) & 0xffffff).isEqualTo(0xff80);
        // 8-bit entries, one a byte as the standard has them
        TestDicom bytes = TestDicom.dataSet().string(0x00280004, "CS", "PALETTE COLOR").us(0x00280002, 1)
                .us(0x00280010, 10).us(0x00280011, 20).us(0x00280100, 8).us(0x00280101, 8);
        for (int c = 0; c < 3; c++) {
            byte[] table = new byte[256];
            for (int i = 0; i < 256; i++) {
                table[i] = (byte) (c == 0 ? i : c == 1 ? 255 - i : 128);
            }
            bytes.bytes(0x00281101 + c, "US", descriptor(256, 0, 8)).bytes(0x00281201 + c, "OW", table);
        }
        assertSamePixels(render(bytes.pixels(indices).toBytes(), "application/dicom"), png);
    }

    @Test
    void palette_colour_in_16_bits_and_in_rle_render_as_8_bit_uncompressed_and_without_tables_is_refused()
            throws Exception {
        int rows = 40;
        int columns = 60;
        byte[] indices = new byte[rows * columns];
        short[] wide = new short[rows * columns];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = (byte) (i % columns * 4);
            wide[i] = (short) (indices[i] & 0xff);
        }
        TestDicom eight = withPalette(TestDicom.dataSet(), 0).us(0x00280010, rows).us(0x00280011, columns)
                .us(0x00280100, 8).us(0x00280101, 8);
        byte[] uncompressed = eight.pixels(indices).toBytes();
        BufferedImage expected = render(uncompressed, "application/dicom");
        assertThat(expected.getRGB(0, 0)).isNotEqualTo(expected.getRGB(50, 0)); // not one flat colour
        assertSamePixels(render(withPalette(TestDicom.dataSet(), 0).us(0x00280010, rows).us(0x00280011, columns)
                .us(0x00280100, 16).us(0x00280101, 16).pixels(wide).toBytes(), "application/dicom"), expected);
        rendersAsUncompressed(eight.transferSyntax(TestRle.TRANSFER_SYNTAX).encapsulatedPixels(TestRle.frame(indices))
                .toBytes(), uncompressed);
        byte[] withoutTables = TestDicom.dataSet().string(0x00280004, "CS", "PALETTE COLOR").us(0x00280002, 1)
                .us(0x00280010, rows).us(0x00280011, columns).us(0x00280100, 8).us(0x00280101, 8).pixels(indices)
                .toBytes();
        assertThatThrownBy(() -> render(withoutTables, "application/dicom"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("without its three lookup tables");
    }

    @Test
    void ybr_full_frames_interleaved_planar_and_rle_and_ybr_full_422_ones_are_converted_to_rgb() throws Exception {
        // Y 100, Cb 128, Cr 200 is RGB (201, 49, 100); Y 50, Cb 200, Cr 128 is (50, 25, 178)
        int rows = 10;
        int columns = 20;
        byte[][] planes = new byte[3][rows * columns];
        byte[] interleaved = new byte[rows * columns * 3];
        byte[] planar = new byte[rows * columns * 3];
        byte[] subsampled = new byte[rows * columns * 2];
        for (int i = 0; i < rows * columns; i++) {
            boolean left = i % columns < 10;
            int[] ybr = left ? new int[] {100, 128, 200} : new int[] {50, 200, 128};
            for (int c = 0; c < 3; c++) {
                planes[c][i] = (byte) ybr[c];
                interleaved[i * 3 + c] = (byte) ybr[c];
                planar[c * rows * columns + i] = (byte) ybr[c];
            }
            if (i % 2 == 0) { // Y of this pixel and the next, their Cb and Cr
                subsampled[i * 2] = (byte) ybr[0];
                subsampled[i * 2 + 1] = (byte) ybr[0];
                subsampled[i * 2 + 2] = (byte) ybr[1];
                subsampled[i * 2 + 3] = (byte) ybr[2];
            }
        }
        TestDicom ybr = TestDicom.dataSet().us(0x00280002, 3).string(0x00280004, "CS", "YBR_FULL").us(0x00280010, rows)
                .us(0x00280011, columns).us(0x00280100, 8).us(0x00280101, 8).us(0x00280006, 0);
        byte[] uncompressed = ybr.pixels(interleaved).toBytes();
        BufferedImage png = render(uncompressed, "application/dicom");
        assertThat(png.getRGB(5, 5) & 0xffffff).isEqualTo(201 << 16 | 49 << 8 | 100);
        assertThat(png.getRGB(15, 5) & 0xffffff).isEqualTo(50 << 16 | 25 << 8 | 178);
        assertSamePixels(render(ybr.us(0x00280006, 1).pixels(planar).toBytes(), "application/dicom"), png);
        rendersAsUncompressed(ybr.us(0x00280006, 0).transferSyntax(TestRle.TRANSFER_SYNTAX)
                .encapsulatedPixels(TestRle.frame(planes)).toBytes(), uncompressed);
        BufferedImage from422 = render(TestDicom.dataSet().us(0x00280002, 3).string(0x00280004, "CS", "YBR_FULL_422")
                .us(0x00280010, rows).us(0x00280011, columns).us(0x00280100, 8).us(0x00280101, 8).us(0x00280006, 0)
                .pixels(subsampled).toBytes(), "application/dicom");
        assertSamePixels(from422, png);
    }

    @Test
    void a_jpeg_baseline_dicom_frame_renders_as_its_jpeg_would() throws Exception {
        byte[] jpeg = TestImages.aJpegImage(600, 400);
        byte[] fragment = java.util.Arrays.copyOf(jpeg, jpeg.length + jpeg.length % 2); // items are of even length
        byte[] dicom = TestDicom.dataSet().transferSyntax(TestDicom.JPEG_BASELINE).us(0x00280002, 3)
                .string(0x00280004, "CS", "YBR_FULL_422").us(0x00280010, 400).us(0x00280011, 600)
                .us(0x00280100, 8).us(0x00280101, 8).us(0x00280006, 0).encapsulatedPixels(fragment).toBytes();
        BufferedImage fromDicom = render(dicom, "application/dicom");
        BufferedImage fromJpeg = render(jpeg, "image/jpeg");
        assertThat(fromDicom.getWidth()).isEqualTo(256);
        assertThat(fromDicom.getHeight()).isEqualTo(fromJpeg.getHeight());
        for (int[] at : new int[][] {{10, 10}, {128, 85}, {250, 160}}) {
            assertThat(fromDicom.getRGB(at[0], at[1])).isEqualTo(fromJpeg.getRGB(at[0], at[1]));
        }
    }

    @Test
    void a_jpeg_baseline_frame_split_over_two_fragments_renders_as_in_one() throws Exception {
        byte[] jpeg = TestImages.aJpegImage(600, 400);
        byte[] whole = java.util.Arrays.copyOf(jpeg, jpeg.length + jpeg.length % 2);
        int half = whole.length / 4 * 2;
        TestDicom base = TestDicom.dataSet().transferSyntax(TestDicom.JPEG_BASELINE).us(0x00280002, 3)
                .string(0x00280004, "CS", "YBR_FULL_422").us(0x00280010, 400).us(0x00280011, 600)
                .us(0x00280100, 8).us(0x00280101, 8).us(0x00280006, 0);
        BufferedImage one = render(base.encapsulatedPixels(whole).toBytes(), "application/dicom");
        BufferedImage two = render(base.encapsulatedPixels(java.util.Arrays.copyOfRange(whole, 0, half),
                java.util.Arrays.copyOfRange(whole, half, whole.length)).toBytes(), "application/dicom");
        assertSamePixels(two, one);
    }

    @Test
    void a_jpeg_lossless_ct_slice_in_two_fragments_renders_exactly_as_its_pixels_uncompressed() throws Exception {
        int rows = 300;
        int columns = 500;
        short[] pixels = new short[rows * columns];
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < columns; x++) {
                pixels[y * columns + x] = (short) (-1000 + (x * 7 + y * 13) % 2000);
            }
        }
        // the extremes of 16 bits next to each other: differences of every category, 16 among them
        pixels[7] = 0;
        pixels[8] = Short.MIN_VALUE;
        pixels[9] = Short.MAX_VALUE;
        byte[] jpeg = TestJpegLossless.encode(pixels, rows, columns);
        int half = jpeg.length / 4 * 2;
        byte[] lossless = TestDicom.ctSlice(rows, columns, pixels).transferSyntax(TestDicom.JPEG_LOSSLESS)
                .encapsulatedPixels(java.util.Arrays.copyOfRange(jpeg, 0, half),
                        java.util.Arrays.copyOf(java.util.Arrays.copyOfRange(jpeg, half, jpeg.length),
                                jpeg.length - half + jpeg.length % 2)).toBytes();
        BufferedImage fromLossless = rendersAsUncompressed(lossless, TestDicom.ctSlice(rows, columns, pixels).toBytes());
        assertThat(fromLossless.getWidth()).isEqualTo(256);
        assertThat(fromLossless.getRGB(0, 0)).isNotEqualTo(fromLossless.getRGB(100, 0)); // not one flat grey
    }

    @Test
    void a_12_bit_jpeg_lossless_mr_frame_without_a_window_renders_as_its_pixels_uncompressed() throws Exception {
        int rows = 64;
        int columns = 96;
        short[] pixels = new short[rows * columns];
        int[] samples = new int[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            samples[i] = (i * 37) % 4096;
            pixels[i] = (short) samples[i];
        }
        TestDicom mr = TestDicom.dataSet().string(0x00080060, "CS", "MR").us(0x00280002, 1)
                .string(0x00280004, "CS", "MONOCHROME1").us(0x00280010, rows).us(0x00280011, columns)
                .us(0x00280100, 16).us(0x00280101, 12).us(0x00280102, 11).us(0x00280103, 0);
        byte[] uncompressed = mr.pixels(pixels).toBytes();
        byte[] jpeg = TestJpegLossless.encode(samples, rows, columns, 12);
        rendersAsUncompressed(mr.transferSyntax(TestDicom.JPEG_LOSSLESS)
                .encapsulatedPixels(java.util.Arrays.copyOf(jpeg, jpeg.length + jpeg.length % 2)).toBytes(), uncompressed);
    }

    @Test
    void an_rle_ct_slice_renders_exactly_as_its_pixels_uncompressed() throws Exception {
        int rows = 1100;
        int columns = 700;
        short[] pixels = TestDicom.ctPixels(rows, columns); // a ramp: runs of equal bytes
        for (int y = rows / 2; y < rows; y++) {
            for (int x = 0; x < columns; x++) {
                pixels[y * columns + x] = (short) (-1000 + (x * 7 + y * 13) % 2000); // literals
            }
        }
        pixels[0] = Short.MIN_VALUE;
        pixels[1] = Short.MAX_VALUE;
        BufferedImage fromRle = rendersAsUncompressed(TestDicom.ctSlice(rows, columns, pixels)
                .transferSyntax(TestRle.TRANSFER_SYNTAX).encapsulatedPixels(TestRle.encode(pixels)).toBytes(),
                TestDicom.ctSlice(rows, columns, pixels).toBytes());
        assertThat(fromRle.getHeight()).isEqualTo(256);
        assertThat(fromRle.getRGB(10, 10)).isNotEqualTo(fromRle.getRGB(150, 10)); // not one flat grey
    }

    @Test
    void an_rle_rgb_frame_and_an_8_bit_grey_one_render_as_uncompressed() throws Exception {
        int rows = 300;
        int columns = 1030;
        byte[] interleaved = new byte[rows * columns * 3];
        byte[][] planes = new byte[3][rows * columns];
        for (int i = 0; i < rows * columns; i++) {
            for (int c = 0; c < 3; c++) {
                planes[c][i] = (byte) (c == 0 ? i % columns / 5 : c == 1 ? i / columns : (i * 31) % 256);
                interleaved[i * 3 + c] = planes[c][i];
            }
        }
        TestDicom rgb = TestDicom.dataSet().us(0x00280002, 3).string(0x00280004, "CS", "RGB").us(0x00280010, rows)
                .us(0x00280011, columns).us(0x00280100, 8).us(0x00280101, 8).us(0x00280006, 0);
        byte[] uncompressed = rgb.pixels(interleaved).toBytes();
        rendersAsUncompressed(rgb.transferSyntax(TestRle.TRANSFER_SYNTAX).encapsulatedPixels(TestRle.frame(planes))
                .toBytes(), uncompressed);
        TestDicom grey = TestDicom.dataSet().us(0x00280002, 1).string(0x00280004, "CS", "MONOCHROME2")
                .us(0x00280010, rows).us(0x00280011, columns).us(0x00280100, 8).us(0x00280101, 8).us(0x00280103, 0);
        byte[] greyRle = grey.transferSyntax(TestRle.TRANSFER_SYNTAX).encapsulatedPixels(TestRle.frame(planes[2])).toBytes();
        rendersAsUncompressed(greyRle, grey.transferSyntax(TestDicom.EXPLICIT_LITTLE).pixels(planes[2]).toBytes());
    }

    @Test
    void an_rle_frame_whose_header_or_segments_lie_is_refused() throws Exception {
        short[] pixels = TestDicom.ctPixels(64, 64);
        byte[] frame = TestRle.encode(pixels);
        TestDicom ct = TestDicom.ctSlice(64, 64, pixels).transferSyntax(TestRle.TRANSFER_SYNTAX);
        byte[] oneSegment = frame.clone();
        oneSegment[0] = 1;
        assertThatThrownBy(() -> render(ct.encapsulatedPixels(oneSegment).toBytes(), "application/dicom"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("does not declare 2 segments");
        byte[] backwards = frame.clone();
        java.nio.ByteBuffer.wrap(backwards).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(8, 10);
        assertThatThrownBy(() -> render(ct.encapsulatedPixels(backwards).toBytes(), "application/dicom"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("out of order");
        byte[] cut = java.util.Arrays.copyOf(frame, frame.length - 6);
        assertThatThrownBy(() -> render(ct.encapsulatedPixels(cut).toBytes(), "application/dicom"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("ends before its plane");
    }

    /** The thumbnail of a compressed DICOM file, checked pixel for pixel against the same pixels' uncompressed. */
    private BufferedImage rendersAsUncompressed(byte[] compressed, byte[] uncompressed) throws Exception {
        BufferedImage fromCompressed = render(compressed, "application/dicom");
        assertSamePixels(fromCompressed, render(uncompressed, "application/dicom"));
        return fromCompressed;
    }

    private static void assertSamePixels(BufferedImage actual, BufferedImage expected) {
        assertThat(actual.getWidth()).isEqualTo(expected.getWidth());
        assertThat(actual.getHeight()).isEqualTo(expected.getHeight());
        for (int y = 0; y < expected.getHeight(); y++) {
            for (int x = 0; x < expected.getWidth(); x++) {
                assertThat(actual.getRGB(x, y)).as("pixel %d,%d", x, y).isEqualTo(expected.getRGB(x, y));
            }
        }
    }

    @Test
    void what_cannot_be_rendered_fails_the_step_without_decoding() throws Exception {
        assertThatThrownBy(() -> render(TestImages.aPngDeclaring(100_000, 100_000), "image/png"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("100000×100000");
        // a DICOM compressed otherwise than JPEG (JPEG 2000), a JPEG baseline one whose frame is no JPEG, one whose
        // item runs past its end, one declaring 65535×65535 pixels with 8 bytes of them, and a lossless JPEG frame
        // larger than the decoder may hold whole
        assertThatThrownBy(() -> render(TestDicom.ctSlice(8, 8).transferSyntax("1.2.840.10008.1.2.4.90")
                .encapsulatedPixels(new byte[] {1, 2}).toBytes(), "application/dicom"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("1.2.840.10008.1.2.4.90 is not rendered");
        assertThatThrownBy(() -> render(TestDicom.ctSlice(8, 8).transferSyntax(TestDicom.JPEG_LOSSLESS)
                .us(0x00280010, 3000).us(0x00280011, 3000).encapsulatedPixels(new byte[] {1, 2}).toBytes(),
                "application/dicom")).isInstanceOf(UnreadableFileException.class).hasMessageContaining("3000×3000");
        assertThatThrownBy(() -> render(TestDicom.ctSlice(8, 8).transferSyntax(TestDicom.JPEG_BASELINE)
                .encapsulatedPixels(new byte[] {1, 2}).toBytes(), "application/dicom"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("decod");
        byte[] truncated = TestDicom.ctSlice(8, 8).transferSyntax(TestDicom.JPEG_BASELINE)
                .encapsulatedPixels(TestImages.aJpegImage(8, 8)).toBytes();
        assertThatThrownBy(() -> render(java.util.Arrays.copyOf(truncated, truncated.length - 40), "application/dicom"))
                .isInstanceOf(UnreadableFileException.class);
        assertThatThrownBy(() -> render(TestDicom.ctSlice(8, 8).transferSyntax(TestDicom.JPEG_BASELINE)
                .us(0x00280010, 65535).us(0x00280011, 65535).encapsulatedPixels(TestImages.aJpegImage(8, 8)).toBytes(),
                "application/dicom")).isInstanceOf(UnreadableFileException.class).hasMessageContaining("65535×65535");
        assertThatThrownBy(() -> render(TestDicom.ctSlice(2, 2).us(0x00280010, 65535).us(0x00280011, 65535).toBytes(),
                "application/dicom")).isInstanceOf(UnreadableFileException.class);
        assertThatThrownBy(() -> render(new byte[] {1, 2, 3}, "application/pdf"))
                .isInstanceOf(UnreadableFileException.class);
    }

    @Test
    void a_pdf_gets_its_first_page_as_shown() throws Exception {
        // A4 is 595 × 842 pt; the first page's left half is red, its right half white below a title
        BufferedImage portrait = render(TestPdf.report().pages(3).toBytes(), "application/pdf");
        assertThat(portrait.getWidth()).isEqualTo(181);
        assertThat(portrait.getHeight()).isEqualTo(256);
        assertThat(portrait.getRGB(20, 128) & 0xffffff).isEqualTo(0xff0000);
        assertThat(portrait.getRGB(160, 200) & 0xffffff).isEqualTo(0xffffff);
        // /Rotate 90 turns the page clockwise: landscape, the red half on top
        BufferedImage landscape = render(TestPdf.report().rotated(90).toBytes(), "application/pdf");
        assertThat(landscape.getWidth()).isEqualTo(256);
        assertThat(landscape.getHeight()).isEqualTo(181);
        assertThat(landscape.getRGB(200, 20) & 0xffffff).isEqualTo(0xff0000);
        assertThat(landscape.getRGB(200, 160) & 0xffffff).isEqualTo(0xffffff);
    }
}
