package org.patientimages.localstack.testing;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Small real images made by the tests through ImageIO. */
public final class TestImages {

    private TestImages() {
    }

    public static byte[] aPngImage(int width, int height) throws IOException {
        return image("png", width, height);
    }

    public static byte[] aJpegImage(int width, int height) throws IOException {
        return image("jpg", width, height);
    }

    /** A valid PNG of 1×1 pixels whose header declares {@code width}×{@code height}: a pixel bomb in 70 bytes. */
    public static byte[] aPngDeclaring(int width, int height) throws IOException {
        byte[] png = aPngImage(1, 1);
        // rewrite IHDR's width and height (bytes 16-23) and its CRC
        java.nio.ByteBuffer.wrap(png).putInt(16, width).putInt(20, height);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, 12, 17);
        java.nio.ByteBuffer.wrap(png).putInt(29, (int) crc.getValue());
        return png;
    }

    private static byte[] image(String format, int width, int height) throws IOException {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < width; x++) {
            for (int y = 0; y < height; y++) {
                image.setRGB(x, y, (x * 255 / width) << 16 | (y * 255 / height) << 8);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, format, out);
        return out.toByteArray();
    }
}
