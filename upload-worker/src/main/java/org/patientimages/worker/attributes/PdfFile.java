package org.patientimages.worker.attributes;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarFile;

/**
 * Reads PDFs of up to {@value #MAX_BYTES} bytes with Apache PDFBox in child JVMs ({@link PdfProcess}) whose heap
 * and time are limited: its page count and version, and its first page rendered. No PDF parser bounds the memory
 * a hostile file makes it use, so a PDF that would take more is its child's end (out of memory, or killed at the
 * time limit), never the worker's. A child stays for the next PDF (one per thread reading at once, each ended after
 * {@value #USES} PDFs or {@code idle} without one), so that a PDF costs its reading, not a JVM's start. One child
 * reads a PDF once for both steps: its attributes and its first page. Pure: no Spring, Kafka or S3 here.
 */
public final class PdfFile implements AutoCloseable {

    /** Larger PDFs are not read at all: a broken one is scanned whole for its objects, which takes long. */
    static final long MAX_BYTES = 512L * 1024 * 1024;
    /** The first page is rendered to this many px on its long side: the thumbnails' working size. */
    private static final int SIDE = ThumbnailRenderer.WORKING_SIDE;
    /** A child reads at most this many PDFs, so that whatever a PDF leaves in its heap does not build up. */
    static final int USES = 200;

    private final Duration timeLimit;
    private final long heapBytes;
    /** The child's command up to its arguments. */
    private final List<String> java;
    private final AtomicLong children = new AtomicLong();
    /** The children waiting for a PDF, the last one back first (the others grow idle, and are ended). */
    private final BlockingDeque<Child> waiting = new LinkedBlockingDeque<>();
    /** Kills a child at its time limit, and ends the idle ones. */
    private final ScheduledThreadPoolExecutor timer;
    private final Duration idle;
    private final int uses;

    /**
     * @param timeLimit how long a child may take to read or render one PDF before it is killed
     * @param heapBytes each child's heap ({@code -Xmx})
     * @param idle      a child without a PDF for this long is ended
     */
    public PdfFile(Duration timeLimit, long heapBytes, Duration idle) {
        this(timeLimit, heapBytes, idle, USES);
    }

    /** @param uses a child reads at most this many PDFs */
    PdfFile(Duration timeLimit, long heapBytes, Duration idle, int uses) {
        this.uses = uses;
        this.timeLimit = timeLimit;
        this.heapBytes = heapBytes;
        this.idle = idle;
        this.java = java();
        this.timer = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "pdf-children");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        long every = Math.max(1, idle.toMillis() / 2);
        timer.scheduleWithFixedDelay(this::endIdle, every, every, TimeUnit.MILLISECONDS);
    }

    /** Ends every child (those reading answer their reader with a failure). */
    @Override
    public void close() {
        timer.shutdownNow();
        for (Child child; (child = waiting.pollFirst()) != null; ) {
            child.end();
        }
    }

    /**
     * One child's reading of a PDF: its attributes, {@code {"pdf": {"pages": n, "version": "1.7"}}} (or
     * {@code {"pdf": {"encrypted": true}}} without its password), and its first page, at most {@value #SIDE} px on its
     * long side, as it is shown (its crop box and rotation); each, or why not. The attributes hold when the page
     * fails after them (a page too large for the child's memory).
     */
    record Read(Step<Map<String, Object>> attributes, Step<BufferedImage> page) {

        static Read failed(UnreadableFileException failure) {
            return new Read(Step.skipped(failure), Step.skipped(failure));
        }
    }

    /** How many child JVMs this has started. */
    long children() {
        return children.get();
    }

    /** How many wait for a PDF. */
    int waiting() {
        return waiting.size();
    }

    /** The PDF read by a waiting child (or a new one). */
    Read read(Path file) {
        Path png = null;
        try {
            if (Files.size(file) > MAX_BYTES) {
                return Read.failed(new UnreadableFileException(
                        "a PDF larger than " + (MAX_BYTES >> 20) + " MiB is not read"));
            }
            if (file.toString().contains("\t") || file.toString().contains("\n")) {
                return Read.failed(malformed());
            }
            png = Files.createTempFile("pdf-page-", ".png");
            Answer answer = ask(file, png);
            Map<String, Object> pdf = new LinkedHashMap<>();
            for (String line : answer.lines()) {
                if (line.startsWith("pages=")) {
                    pdf.put("pages", Integer.parseInt(line.substring(6).strip()));
                } else if (line.startsWith("version=")) {
                    pdf.put("version", line.substring(8).strip());
                } else if (line.strip().equals("encrypted=true")) {
                    pdf.put("encrypted", true);
                }
            }
            UnreadableFileException failure = answer.failure();
            BufferedImage page = failure == null ? ImageIO.read(png.toFile()) : null;
            if (failure == null && page == null) {
                failure = malformed();
            }
            if (pdf.isEmpty()) {
                return Read.failed(failure != null ? failure : malformed());
            }
            return new Read(Step.done(Map.of("pdf", pdf)), failure == null ? Step.done(page) : Step.skipped(failure));
        } catch (IOException | RuntimeException e) {
            return Read.failed(malformed());
        } finally {
            if (png != null) {
                png.toFile().delete();
            }
        }
    }

    /** What a child printed of a PDF, and why it did not render its page (null when it did). */
    private record Answer(List<String> lines, UnreadableFileException failure) {
    }

    /**
     * Has a waiting child (or a new one) read the PDF, killing it at the time limit. A child that answered waits
     * for the next PDF; one that ended (out of memory, killed) is gone, and its status says why.
     */
    private Answer ask(Path file, Path png) throws IOException {
        Child child = take();
        ScheduledFuture<?> kill = timer.schedule(child::kill, timeLimit.toMillis(), TimeUnit.MILLISECONDS);
        List<String> lines = new ArrayList<>();
        Integer status = null;
        try {
            child.requests.write(file + "\t" + SIDE + "\t" + png + "\n");
            child.requests.flush();
            for (String line; lines.size() < 16 && (line = child.answers.readLine()) != null; ) {
                if (line.startsWith("status=")) {
                    status = Integer.valueOf(line.substring(7).strip());
                    break;
                }
                lines.add(line);
            }
        } catch (IOException | NumberFormatException e) {
            // the child has ended (or printed what it never prints): its exit status tells
        } finally {
            kill.cancel(false);
        }
        if (status != null && !child.killed) {
            child.answered();
            if (child.uses < uses) {
                waiting.offerFirst(child);
            } else {
                child.end();
            }
            return new Answer(lines, failure(status));
        }
        return new Answer(lines, child.killed ? timeUp() : failure(child.exitStatus()));
    }

    /** The child that waited least, or a new one when none waits (or those that wait have ended meanwhile). */
    private Child take() throws IOException {
        for (Child child; (child = waiting.pollFirst()) != null; ) {
            if (child.process.isAlive()) {
                return child;
            }
        }
        children.incrementAndGet();
        return new Child(new ProcessBuilder(command("serve")).redirectError(ProcessBuilder.Redirect.DISCARD).start());
    }

    private void endIdle() {
        long before = System.nanoTime() - idle.toNanos();
        for (Child child : waiting) {
            if (child.since - before < 0 && waiting.remove(child)) {
                child.end();
            }
        }
    }

    /** A child JVM and its pipes; used by one thread at a time (it is taken from {@link #waiting}). */
    private static final class Child {
        final Process process;
        final Writer requests;
        final BufferedReader answers;
        int uses;
        /** When it last answered (System.nanoTime). */
        volatile long since = System.nanoTime();
        volatile boolean killed;

        Child(Process process) {
            this.process = process;
            this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            this.answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        void answered() {
            uses++;
            since = System.nanoTime();
        }

        void kill() {
            killed = true;
            process.destroyForcibly();
        }

        void end() {
            process.destroyForcibly();
        }

        /** How it ended: its exit status, once it has exited (it was killed if it does not within seconds). */
        int exitStatus() {
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    return PdfProcess.MALFORMED;
                }
                return process.exitValue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                return PdfProcess.MALFORMED;
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
