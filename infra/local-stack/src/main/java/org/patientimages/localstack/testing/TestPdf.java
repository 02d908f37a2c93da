package org.patientimages.localstack.testing;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDPageContentStream;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;
import org.apache.pdfbox.pdmodel.font.PDType1Font;
import org.apache.pdfbox.pdmodel.font.Standard14Fonts;

import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

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
            content.setNonStrokingColor(Color.RED);
            for (int i = 0; i < extraRectangles; i++) {
                content.addRect(i % 250, 0, 1, 1);
                content.fill();
            }
        }
    }
}
