package org.patientimages.worker.attributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.localstack.testing.TestDicom;
import org.patientimages.localstack.testing.TestImages;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ThumbnailRendererTest {

    @TempDir
    Path dir;

    private final ThumbnailRenderer renderer = new ThumbnailRenderer(100_000_000L);

    private BufferedImage render(byte[] bytes, String contentType) throws Exception {
        ThumbnailRenderer.Thumbnail thumbnail = renderer.render(Files.write(dir.resolve("f"), bytes), contentType);
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
    void what_cannot_be_rendered_fails_the_step_without_decoding() throws Exception {
        assertThatThrownBy(() -> render(TestImages.aPngDeclaring(100_000, 100_000), "image/png"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("100000×100000");
        // a DICOM compressed otherwise than JPEG baseline, a JPEG baseline one whose frame is no JPEG, one whose
        // item runs past its end, and one declaring 65535×65535 pixels with 8 bytes of them
        assertThatThrownBy(() -> render(TestDicom.ctSlice(8, 8).transferSyntax("1.2.840.10008.1.2.4.70")
                .encapsulatedPixels(new byte[] {1, 2}).toBytes(), "application/dicom"))
                .isInstanceOf(UnreadableFileException.class).hasMessageContaining("1.2.840.10008.1.2.4.70 is not rendered");
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
}
