package org.patientimages.worker.attributes;

import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.rendering.ImageType;
import org.apache.pdfbox.rendering.PDFRenderer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Timer;
import java.util.TimerTask;

/**
 * The child process in which {@link PdfFile} has Apache PDFBox read PDFs: no PDF parser bounds the memory a
 * hostile file makes it use (a compressed stream that inflates to gigabytes, an image of 15000×15000 pixels), so
 * it runs here, in a JVM of its own with a small heap, killed when it takes too long. It stays for the next PDF, so
 * that a PDF costs its reading, not a JVM's start.
 *
 * <p>{@code serve}: each line on stdin, {@code FILE<TAB>SIDE<TAB>OUT}, is one PDF to read. For each it prints
 * {@code pages=N}, {@code version=1.7} and {@code encrypted=true} lines (only the last for a PDF that opens only
 * with a password), at once, then writes the first page as a PNG to OUT, at most SIDE px on its long side, as it is
 * shown (its crop box and rotation), and ends its answer with {@code status=N} ({@code 0} or one of the statuses
 * below). A page that cannot be rendered for want of memory ends the process (exit status {@value #OUT_OF_MEMORY})
 * and leaves the lines printed before it; a PDF read longer than the time limit ends it too
 * ({@value #TIME_UP}), should the worker be gone before it can kill it. The end of stdin ends it.
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

    public static void main(String[] args) throws IOException {
        // the answers alone on stdout: anything a library prints goes where the worker does not read
        PrintStream answers = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.setOut(System.err);
        serve(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), answers,
                Long.getLong(TIME_LIMIT, 60_000));
        System.exit(0);
    }

    private static void serve(BufferedReader requests, PrintStream answers, long timeLimitMillis) throws IOException {
        Timer timer = new Timer(true);
        for (String line; (line = requests.readLine()) != null; ) {
            TimerTask halt = new TimerTask() {
                @Override
                public void run() {
                    Runtime.getRuntime().halt(TIME_UP);
                }
            };
            timer.schedule(halt, timeLimitMillis);
            String[] request = line.split("\t", -1);
            int status = request.length == 3
                    ? read(new File(request[0]), Integer.parseInt(request[1]), new File(request[2]), answers)
                    : MALFORMED;
            halt.cancel();
            answers.println("status=" + status);
            answers.flush();
        }
    }

    private static int read(File pdf, int side, File png, PrintStream out) {
        try (PDDocument document = Loader.loadPDF(pdf)) {
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
            BufferedImage page = renderer.renderImage(0, side / longSide, ImageType.RGB);
            return ImageIO.write(page, "png", png) ? 0 : MALFORMED;
        } catch (InvalidPasswordException e) {
            out.println("encrypted=true");
            return PASSWORD;
        } catch (IOException | RuntimeException e) {
            return MALFORMED;
        }
    }
}
