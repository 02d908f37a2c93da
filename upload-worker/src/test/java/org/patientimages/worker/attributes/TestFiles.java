package org.patientimages.worker.attributes;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** Small real images made by the tests through ImageIO. */
public final class TestFiles {

    private TestFiles() {
    }

    public static byte[] aPngImage(int width, int height) throws IOException {
        return image("png", width, height);
    }

    public static byte[] aJpegImage(int width, int height) throws IOException {
        return image("jpg", width, height);
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
