package org.patientimages.worker.attributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

class AttributesTest {

    @TempDir
    Path dir;

    @Test
    void reads_the_dimensions_of_png_and_jpeg() throws Exception {
        assertThat(Attributes.of(Files.write(dir.resolve("a.png"), TestFiles.aPngImage(40, 30)), "image/png"))
                .containsEntry("width", 40).containsEntry("height", 30);
        assertThat(Attributes.of(Files.write(dir.resolve("a.jpg"), TestFiles.aJpegImage(64, 16)), "image/jpeg"))
                .containsEntry("width", 64).containsEntry("height", 16);
    }

    @Test
    void a_png_declaring_100000_by_100000_pixels_costs_nothing_to_read() throws Exception {
        byte[] png = TestFiles.aPngImage(1, 1);
        // rewrite IHDR's width and height (bytes 16-23) and its CRC: a pixel bomb in 70 bytes
        ByteBuffer.wrap(png).putInt(16, 100_000).putInt(20, 100_000);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        ByteBuffer.wrap(png).putInt(29, (int) crc.getValue());
        assertThat(Attributes.of(Files.write(dir.resolve("bomb.png"), png), "image/png"))
                .containsEntry("width", 100_000).containsEntry("height", 100_000);
    }

    @Test
    void truncated_or_foreign_bytes_give_no_attributes_and_no_error() throws Exception {
        byte[] png = TestFiles.aPngImage(10, 10);
        assertThat(Attributes.of(Files.write(dir.resolve("cut.png"), Arrays.copyOf(png, 20)), "image/png")).isEmpty();
        assertThat(Attributes.of(Files.write(dir.resolve("blob"), new byte[] {1, 2, 3}), "application/octet-stream"))
                .isEmpty();
    }
}
