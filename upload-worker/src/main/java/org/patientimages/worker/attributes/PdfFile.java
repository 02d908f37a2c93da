package org.patientimages.worker.attributes;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;

/**
 * Reads PDFs of up to {@value #MAX_BYTES} bytes with Apache PDFBox in a child JVM ({@link PdfProcess}) whose heap
 * and time are limited: its page count and version, and its first page rendered. No PDF parser bounds the memory
 * a hostile file makes it use, so a PDF that would take more is the child's end (out of memory, or killed at the
 * time limit), never the worker's. Pure: no Spring, Kafka or S3 here.
 */
public final class PdfFile {

    /** Larger PDFs are not read at all: a broken one is scanned whole for its objects, which takes long. */
    static final long MAX_BYTES = 512L * 1024 * 1024;

    private final Duration timeLimit;
    private final long heapBytes;
    /** The child's command up to its arguments. */
    private final List<String> java;

    /**
     * @param timeLimit how long the child may take to read or render one PDF before it is killed
     * @param heapBytes the child's heap ({@code -Xmx})
     */
    public PdfFile(Duration timeLimit, long heapBytes) {
        this.timeLimit = timeLimit;
        this.heapBytes = heapBytes;
        this.java = java();
    }

    /** {@code {"pdf": {"pages": n, "version": "1.7"}}}, or {@code {"pdf": {"encrypted": true}}} without its password. */
    Map<String, Object> attributes(Path file) throws UnreadableFileException {
        Map<String, Object> pdf = new LinkedHashMap<>();
        for (String line : new String(run(file, "attributes", file.toString()), StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("pages=")) {
                pdf.put("pages", Integer.parseInt(line.substring(6).strip()));
            } else if (line.startsWith("version=")) {
                pdf.put("version", line.substring(8).strip());
            } else if (line.strip().equals("encrypted=true")) {
                pdf.put("encrypted", true);
            }
        }
        return Map.of("pdf", pdf);
    }

    /** The first page, at most {@code side} px on its long side, as it is shown (its crop box and rotation). */
    BufferedImage firstPage(Path file, int side) throws UnreadableFileException {
        Path png = null;
        try {
            png = Files.createTempFile("pdf-page-", ".png");
            run(file, "render", file.toString(), String.valueOf(side), png.toString());
            BufferedImage page = ImageIO.read(png.toFile());
            if (page == null) {
                throw malformed();
            }
            return page;
        } catch (IOException e) {
            throw malformed();
        } finally {
            if (png != null) {
                png.toFile().delete();
            }
        }
    }

    /** What the child printed, once it ended well; its failure as the step's reason otherwise. */
    private byte[] run(Path file, String... args) throws UnreadableFileException {
        Process child = null;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new UnreadableFileException("a PDF larger than " + (MAX_BYTES >> 20) + " MiB is not read");
            }
            child = new ProcessBuilder(command(args)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            child.getOutputStream().close();
            // its answer is a few lines, which the pipe holds until it ends
            if (!child.waitFor(timeLimit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw timeUp();
            }
            byte[] out;
            try (InputStream stdout = child.getInputStream()) {
                out = stdout.readNBytes(4096);
            }
            return switch (child.exitValue()) {
                case 0 -> out;
                case PdfProcess.PASSWORD -> throw new UnreadableFileException("the PDF opens only with a password");
                case PdfProcess.NO_PAGE -> throw new UnreadableFileException("the PDF has no page to show");
                case PdfProcess.TIME_UP -> throw timeUp();
                case PdfProcess.OUT_OF_MEMORY -> throw new UnreadableFileException(
                        "the PDF needs more than " + (heapBytes >> 20) + " MiB to read");
                default -> throw malformed();
            };
        } catch (IOException e) {
            throw malformed();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreadableFileException("the worker stopped while reading the PDF");
        } finally {
            if (child != null) {
                child.destroyForcibly();
            }
        }
    }

    private UnreadableFileException timeUp() {
        return new UnreadableFileException("the PDF was not read within " + (timeLimit.toMillis() % 1000 == 0
                ? timeLimit.toSeconds() + " s" : timeLimit.toMillis() + " ms"));
    }

    List<String> command(String... args) {
        List<String> command = new ArrayList<>(java);
        command.addAll(List.of(args));
        return command;
    }

    private List<String> java() {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + (heapBytes >> 20) + "m", "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                // the child ends itself at the limit too, should the worker be gone (kill -9) before it
                "-D" + PdfProcess.TIME_LIMIT + "=" + timeLimit.toMillis(),
                // PDFBox warns of what it finds odd, quoting the file's bytes: its log goes nowhere
                "-Dorg.apache.commons.logging.LogFactory=org.apache.commons.logging.impl.LogFactoryImpl",
                "-Dorg.apache.commons.logging.Log=org.apache.commons.logging.impl.NoOpLog",
                // the fonts PDFBox finds on the machine, listed once for every child rather than in the home directory
                "-Dpdfbox.fontcache=" + System.getProperty("java.io.tmpdir")));
        String classPath = System.getProperty("java.class.path");
        command.add("-cp");
        command.add(classPath);
        if (isBootJar(classPath)) {
            // the worker runs from its executable jar: the launcher that takes any main class opens it
            command.add("-Dloader.main=" + PdfProcess.class.getName());
            command.add("org.springframework.boot.loader.launch.PropertiesLauncher");
        } else {
            command.add(PdfProcess.class.getName());
        }
        return List.copyOf(command);
    }

    private static boolean isBootJar(String classPath) {
        if (classPath.contains(File.pathSeparator) || !classPath.endsWith(".jar")) {
            return false;
        }
        try (JarFile jar = new JarFile(classPath)) {
            return jar.getManifest() != null && jar.getManifest().getMainAttributes().getValue("Start-Class") != null;
        } catch (IOException e) {
            return false;
        }
    }

    private static UnreadableFileException malformed() {
        return new UnreadableFileException("the PDF could not be read");
    }
}
