package org.patientimages.localstack.testing;

import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.cos.COSStream;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.common.PDStream;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;
import org.apache.pdfbox.pdmodel.graphics.image.PDImageXObject;

import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.DeflaterOutputStream;

/**
 * Real PDFs made with Apache PDFBox for the tests and {@code ./dev samples}: A4 pages whose first has its left
 * half red and a line of text on the right, so that a rendering of it can be checked by its pixels.
 */
public final class TestPdf {

    private int pages = 1;
    private int rotation;
    private int extraRectangles;
    private String userPassword;
    private String title;
    private int imageSide;

    private TestPdf() {
    }

    /** One A4 page, portrait: the left half red, a title in black on the white right half. */
    public static TestPdf report() {
        return new TestPdf();
    }

    public TestPdf pages(int pages) {
        this.pages = pages;
        return this;
    }

    /** The pages' {@code /Rotate}: 90 shows the portrait page as landscape, its red half on top. */
    public TestPdf rotated(int degrees) {
        this.rotation = degrees;
        return this;
    }

    /** Draws this many more small rectangles on the first page: drawing work for a renderer's time limit. */
    public TestPdf busy(int rectangles) {
        this.extraRectangles = rectangles;
        return this;
    }

    /**
     * Draws a black RGB image of side × side pixels, Flate-compressed (a few KB for any side), in a corner of the
     * first page: a decompression bomb for a large side, 3 bytes a pixel once decoded.
     */
    public TestPdf image(int side) {
        this.imageSide = side;
        return this;
    }

    /** The document information's title, as a report's generator writes the patient's name into it. */
    public TestPdf title(String title) {
        this.title = title;
        return this;
    }

    /** Encrypted so that it opens only with this password. */
    public TestPdf password(String userPassword) {
        this.userPassword = userPassword;
        return this;
    }

    public byte[] toBytes() throws IOException {
        try (PDDocument document = new PDDocument()) {
            document.setVersion(1.7f);
            for (int i = 0; i < pages; i++) {
                PDPage page = new PDPage(PDRectangle.A4);
                page.setRotation(rotation);
                document.addPage(page);
                if (i == 0) {
                    draw(document, page);
                }
            }
            if (title != null) {
                document.getDocumentInformation().setTitle(title);
            }
            if (userPassword != null) {
                StandardProtectionPolicy policy = new StandardProtectionPolicy("owner-" + userPassword, userPassword,
                        new AccessPermission());
                policy.setEncryptionKeyLength(128);
                document.protect(policy);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            document.save(out);
            return out.toByteArray();
        }
    }

    private static PDImageXObject blackImage(PDDocument document, int side) throws IOException {
        COSStream stream = document.getDocument().createCOSStream();
        try (DeflaterOutputStream out = new DeflaterOutputStream(stream.createRawOutputStream())) {
            byte[] row = new byte[side * 3];
            for (int y = 0; y < side; y++) {
                out.write(row);
            }
        }
        stream.setItem(COSName.FILTER, COSName.FLATE_DECODE);
        stream.setItem(COSName.TYPE, COSName.XOBJECT);
        stream.setItem(COSName.SUBTYPE, COSName.IMAGE);
        stream.setInt(COSName.WIDTH, side);
        stream.setInt(COSName.HEIGHT, side);
        stream.setInt(COSName.BITS_PER_COMPONENT, 8);
        stream.setItem(COSName.COLORSPACE, COSName.DEVICERGB);
        return new PDImageXObject(new PDStream(stream), null);
    }

    private void draw(PDDocument document, PDPage page) throws IOException {
        PDRectangle box = page.getMediaBox();
        try (PDPageContentStream content = new PDPageContentStream(document, page)) {
            content.setNonStrokingColor(Color.RED);
            content.addRect(0, 0, box.getWidth() / 2, box.getHeight());
            content.fill();
            content.setNonStrokingColor(Color.BLACK);
            content.beginText();
            content.setFont(new PDType1Font(Standard14Fonts.FontName.HELVETICA_BOLD), 18);
            content.newLineAtOffset(box.getWidth() / 2 + 20, box.getHeight() - 60);
            content.showText("Discharge report");
            content.endText();
            if (imageSide > 0) {
                content.drawImage(blackImage(document, imageSide), box.getWidth() - 100, 0, 100, 100);
            }
            content.setNonStrokingColor(Color.RED);
            for (int i = 0; i < extraRectangles; i++) {
                content.addRect(i % 250, 0, 1, 1);
                content.fill();
            }
        }
    }
}
