package org.patientimages.worker.attributes;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Timer;
import java.util.TimerTask;

/**
 * The child process in which {@link PdfFile} has Apache PDFBox read a PDF: no PDF parser bounds the memory a
 * hostile file makes it use (a compressed stream that inflates to gigabytes, an image of 15000×15000 pixels), so
 * it runs here, in a JVM of its own with a small heap, killed when it takes too long. Its answer is its exit
 * status and what it prints.
 *
 * <p>{@code read FILE SIDE OUT} prints {@code pages=N}, {@code version=1.7} and {@code encrypted=true} lines (only
 * the last for a PDF that opens only with a password), at once, then writes the first page as a PNG to OUT, at most
 * SIDE px on its long side, as it is shown (its crop box and rotation). A page that cannot be rendered (out of
 * memory, say) leaves the lines printed before it.
 */
public final class PdfProcess {

    static final int PASSWORD = 10;
    static final int MALFORMED = 11;
    static final int NO_PAGE = 12;
    static final int TIME_UP = 13;
    /** The system property of the child's time limit in milliseconds, after which it ends itself. */
    static final String TIME_LIMIT = "patient-images.pdf.time-limit-ms";
    /** The JVM's own status after {@code -XX:+ExitOnOutOfMemoryError}. */
    static final int OUT_OF_MEMORY = 3;

    private PdfProcess() {
    }

    public static void main(String[] args) {
        new Timer(true).schedule(new TimerTask() {
            @Override
            public void run() {
                Runtime.getRuntime().halt(TIME_UP);
            }
        }, Long.getLong(TIME_LIMIT, 60_000));
        // the answer alone on stdout: anything a library prints goes where the worker does not read
        PrintStream answer = System.out;
        System.setOut(System.err);
        int status = run(args, answer);
        answer.flush();
        System.exit(status);
    }

    static int run(String[] args, PrintStream out) {
        try (PDDocument document = Loader.loadPDF(new File(args[1]))) {
            out.println("pages=" + document.getNumberOfPages());
            out.println("version=" + document.getVersion());
            if (document.isEncrypted()) {
                out.println("encrypted=true");
            }
            out.flush(); // the attributes hold even if rendering runs out of memory
            if (document.getNumberOfPages() == 0) {
                return NO_PAGE;
            }
            PDRectangle box = document.getPage(0).getCropBox();
            float longSide = Math.max(box.getWidth(), box.getHeight());
            if (!(longSide > 0) || Float.isInfinite(longSide)) {
                return NO_PAGE;
            }
            PDFRenderer renderer = new PDFRenderer(document);
            renderer.setSubsamplingAllowed(true);
            BufferedImage page = renderer.renderImage(0, Integer.parseInt(args[2]) / longSide, ImageType.RGB);
            return ImageIO.write(page, "png", new File(args[3])) ? 0 : MALFORMED;
        } catch (InvalidPasswordException e) {
            out.println("encrypted=true");
            return PASSWORD;
        } catch (IOException | RuntimeException e) {
            return MALFORMED;
        }
    }
}
