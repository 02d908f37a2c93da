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
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarFile;

/**
 * Reads PDFs of up to {@value #MAX_BYTES} bytes with Apache PDFBox in a child JVM ({@link PdfProcess}) whose heap
 * and time are limited: its page count and version, and its first page rendered. No PDF parser bounds the memory
 * a hostile file makes it use, so a PDF that would take more is the child's end (out of memory, or killed at the
 * time limit), never the worker's. One child reads a PDF for both steps: the page it rendered with the attributes
 * waits, on the thread that asked, for the {@link #firstPage} that follows. Pure: no Spring, Kafka or S3 here.
 */
public final class PdfFile {

    /** Larger PDFs are not read at all: a broken one is scanned whole for its objects, which takes long. */
    static final long MAX_BYTES = 512L * 1024 * 1024;
    /** The first page is rendered to this many px on its long side: the thumbnails' working size. */
    private static final int SIDE = ThumbnailRenderer.WORKING_SIDE;

    private final Duration timeLimit;
    private final long heapBytes;
    /** The child's command up to its arguments. */
    private final List<String> java;
    /** What the attributes' child read of a file on this thread, for the first page asked for next. */
    private final ThreadLocal<Read> last = new ThreadLocal<>();
    private final AtomicLong children = new AtomicLong();

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
        Read read = read(file);
        last.set(read);
        if (read.attributes() == null) {
            throw read.attributesFailure();
        }
        return read.attributes();
    }

    /**
     * The first page, at most {@value #SIDE} px on its long side, as it is shown (its crop box and rotation): the one
     * rendered with the attributes just read of the same file on this thread, else read now.
     */
    BufferedImage firstPage(Path file) throws UnreadableFileException {
        Read read = last.get();
        last.remove();
        if (read == null || !read.key().equals(key(file))) {
            read = read(file);
        }
        if (read.page() == null) {
            throw read.pageFailure();
        }
        return read.page();
    }

    /** How many child JVMs this has started. */
    long children() {
        return children.get();
    }

    /** One child's reading of a PDF: its attributes or why not, its first page or why not. */
    private record Read(Key key, Map<String, Object> attributes, UnreadableFileException attributesFailure,
                        BufferedImage page, UnreadableFileException pageFailure) {

        static Read failed(Key key, UnreadableFileException failure) {
            return new Read(key, null, failure, null, failure);
        }
    }

    /** A file as it was read: the same path changed since is another. */
    private record Key(Path file, long size, long modified) {
    }

    private static Key key(Path file) throws UnreadableFileException {
        try {
            return new Key(file, Files.size(file), Files.getLastModifiedTime(file).toMillis());
        } catch (IOException e) {
            throw malformed();
        }
    }

    private Read read(Path file) throws UnreadableFileException {
        Key key = key(file);
        if (key.size() > MAX_BYTES) {
            return Read.failed(key, new UnreadableFileException(
                    "a PDF larger than " + (MAX_BYTES >> 20) + " MiB is not read"));
        }
        Path png = null;
        try {
            png = Files.createTempFile("pdf-page-", ".png");
            Process child = start(file, png);
            String answer;
            try (InputStream stdout = child.getInputStream()) {
                answer = new String(stdout.readNBytes(4096), StandardCharsets.UTF_8);
            }
            Map<String, Object> pdf = new LinkedHashMap<>();
            for (String line : answer.split("\n")) {
                if (line.startsWith("pages=")) {
                    pdf.put("pages", Integer.parseInt(line.substring(6).strip()));
                } else if (line.startsWith("version=")) {
                    pdf.put("version", line.substring(8).strip());
                } else if (line.strip().equals("encrypted=true")) {
                    pdf.put("encrypted", true);
                }
            }
            UnreadableFileException failure = failure(child.exitValue());
            BufferedImage page = failure == null ? ImageIO.read(png.toFile()) : null;
            if (failure == null && page == null) {
                failure = malformed();
            }
            if (pdf.isEmpty()) {
                return Read.failed(key, failure != null ? failure : malformed());
            }
            return new Read(key, Map.of("pdf", pdf), null, page, failure);
        } catch (UnreadableFileException e) {
            return Read.failed(key, e);
        } catch (IOException | RuntimeException e) {
            return Read.failed(key, malformed());
        } finally {
            if (png != null) {
                png.toFile().delete();
            }
        }
    }

    /** Runs the child to its end (its answer, a few lines, waits in the pipe), or kills it at the time limit. */
    private Process start(Path file, Path png) throws IOException, UnreadableFileException {
        children.incrementAndGet();
        Process child = new ProcessBuilder(command("read", file.toString(), String.valueOf(SIDE), png.toString()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            child.getOutputStream().close();
            if (!child.waitFor(timeLimit.toMillis(), TimeUnit.MILLISECONDS)) {
                throw timeUp();
            }
            return child;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreadableFileException("the worker stopped while reading the PDF");
        } finally {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
    }

    private UnreadableFileException failure(int exit) {
        return switch (exit) {
            case 0 -> null;
            case PdfProcess.PASSWORD -> new UnreadableFileException("the PDF opens only with a password");
            case PdfProcess.NO_PAGE -> new UnreadableFileException("the PDF has no page to show");
            case PdfProcess.TIME_UP -> timeUp();
            case PdfProcess.OUT_OF_MEMORY -> new UnreadableFileException(
                    "the PDF needs more than " + (heapBytes >> 20) + " MiB to read");
            default -> malformed();
        };
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
