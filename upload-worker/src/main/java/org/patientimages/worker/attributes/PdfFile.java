package org.patientimages.worker.attributes;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.contentstream.operator.Operator;
import org.apache.pdfbox.cos.COSBase;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;
import org.apache.pdfbox.rendering.PageDrawer;
import org.apache.pdfbox.rendering.PageDrawerParameters;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PDF of up to {@value #MAX_BYTES} bytes read with Apache PDFBox, from its file as needed (not loaded whole): its
 * page count and version, and its first page rendered. Rendering is bounded in memory by the size it renders to (embedded images are decoded
 * subsampled) and in time by a limit that every drawing operator checks, so a page of millions of operators
 * gives up instead of holding a worker's thread. Pure: no Spring, Kafka or S3 here.
 */
final class PdfFile {

    /** Larger PDFs are not read at all: a broken one is scanned whole for its objects, which takes long. */
    static final long MAX_BYTES = 512L * 1024 * 1024;

    private PdfFile() {
    }

    /** {@code {"pdf": {"pages": n, "version": "1.7"}}}, or {@code {"pdf": {"encrypted": true}}} without its password. */
    static Map<String, Object> attributes(Path file) throws UnreadableFileException {
        Map<String, Object> pdf = new LinkedHashMap<>();
        try (PDDocument document = open(file)) {
            pdf.put("pages", document.getNumberOfPages());
            pdf.put("version", String.valueOf(document.getVersion()));
            if (document.isEncrypted()) {
                pdf.put("encrypted", true);
            }
        } catch (InvalidPasswordException e) {
            pdf.put("encrypted", true);
        } catch (IOException | RuntimeException e) {
            throw malformed();
        }
        return Map.of("pdf", pdf);
    }

    /**
     * The first page as RGB, at most {@code side} px on its long side (as shown: its {@code /Rotate} applied).
     *
     * @throws UnreadableFileException when the file is no PDF PDFBox can read, needs a password, has no page, or
     *                                 its first page does not render within {@code timeLimit}
     */
    static BufferedImage firstPage(Path file, int side, Duration timeLimit) throws UnreadableFileException {
        try (PDDocument document = open(file)) {
            if (document.getNumberOfPages() == 0) {
                throw new UnreadableFileException("the PDF has no page");
            }
            PDRectangle box = document.getPage(0).getCropBox();
            float longSide = Math.max(box.getWidth(), box.getHeight());
            if (!(longSide > 0) || Float.isInfinite(longSide)) {
                throw new UnreadableFileException("the PDF's first page has no size");
            }
            TimedRenderer renderer = new TimedRenderer(document, System.nanoTime() + timeLimit.toNanos());
            renderer.setSubsamplingAllowed(true);
            return renderer.renderImage(0, side / longSide, ImageType.RGB);
        } catch (InvalidPasswordException e) {
            throw new UnreadableFileException("the PDF opens only with a password");
        } catch (TimeUp e) {
            throw new UnreadableFileException("the PDF's first page did not render within " + timeLimit.toSeconds() + " s");
        } catch (IOException | RuntimeException e) {
            throw malformed();
        }
    }

    private static PDDocument open(Path file) throws IOException, UnreadableFileException {
        if (Files.size(file) > MAX_BYTES) {
            throw new UnreadableFileException("a PDF larger than " + (MAX_BYTES >> 20) + " MiB is not read");
        }
        return Loader.loadPDF(file.toFile());
    }

    private static UnreadableFileException malformed() {
        return new UnreadableFileException("the PDF could not be read");
    }

    /** Thrown by a drawing operator past the deadline; unchecked, so that PDFBox's handling of I/O errors lets it by. */
    private static final class TimeUp extends RuntimeException {
        TimeUp() {
            super(null, null, false, false);
        }
    }

    private static final class TimedRenderer extends PDFRenderer {

        private final long deadline;

        TimedRenderer(PDDocument document, long deadline) {
            super(document);
            this.deadline = deadline;
        }

        @Override
        protected PageDrawer createPageDrawer(PageDrawerParameters parameters) throws IOException {
            return new PageDrawer(parameters) {
                @Override
                protected void processOperator(Operator operator, List<COSBase> operands) throws IOException {
                    if (System.nanoTime() - deadline > 0) {
                        throw new TimeUp();
                    }
                    super.processOperator(operator, operands);
                }
            };
        }
    }
}
