package org.patientimages.gateway.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The gateway's audit records on its own disk until the metadata-service has them. Each record is appended as one
 * line to the current segment file ({@code audit-<n>.jsonl}) as its call ends; the sender reads the segments in
 * order and removes each once every record of it was taken. A gateway killed outright loses none of them: what was
 * written is the kernel's, and the next start sends whatever its segments still hold (a record carries its id, so
 * one sent twice is recorded once). {@link #force} puts the current segment on the disk, which the sender does about
 * once a second, so a power loss loses at most that second. A line torn by a crash in the middle of its write is
 * skipped. Bounded: beyond {@code maxBytes} of segments, {@link #append} keeps nothing. One gateway per directory,
 * held by a lock on {@code journal.lock}. Pure: no Spring here.
 */
final class AuditJournal implements AutoCloseable {

    private static final String PREFIX = "audit-";
    private static final String SUFFIX = ".jsonl";
    /** What the sender reads of a segment at once: more than a batch of records. */
    private static final int READ = 1024 * 1024;

    /** Records taken from the journal in order, and where the next ones start. */
    record Batch(List<byte[]> records, long segment, long end) {
    }

    private final Path directory;
    private final long segmentBytes;
    private final long maxBytes;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final Semaphore appended = new Semaphore(0);

    // guarded by this: the segments on disk, the one written, and their bytes
    private final TreeSet<Long> segments = new TreeSet<>();
    private long currentSegment;
    private FileChannel current;
    private long currentBytes;
    private long bytes;
    private boolean unforced;

    // the sender's alone: where it reads
    private long readOffset;
    private long tornLines;

    private AuditJournal(Path directory, long segmentBytes, long maxBytes, FileChannel lockFile, FileLock lock)
            throws IOException {
        this.directory = directory;
        this.segmentBytes = segmentBytes;
        this.maxBytes = maxBytes;
        this.lockFile = lockFile;
        this.lock = lock;
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.startsWith(PREFIX) && name.endsWith(SUFFIX)) {
                    segments.add(Long.parseLong(name.substring(PREFIX.length(), name.length() - SUFFIX.length())));
                    bytes += Files.size(file);
                }
            }
        }
        openSegment(segments.isEmpty() ? 1 : segments.last() + 1);
    }

    /** The journal in this directory (made if need be); refused while another gateway holds it. */
    static AuditJournal open(Path directory, long segmentBytes, long maxBytes) throws IOException {
        Files.createDirectories(directory);
        FileChannel lockFile = FileChannel.open(directory.resolve("journal.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockFile.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null; // held in this JVM
        } catch (IOException | RuntimeException e) {
            lockFile.close();
            throw e;
        }
        if (lock == null) {
            lockFile.close();
            throw new IllegalStateException("another gateway writes its audit journal in " + directory
                    + ": give each gateway a directory of its own (patient-images.audit.journal)");
        }
        return new AuditJournal(directory, segmentBytes, maxBytes, lockFile, lock);
    }

    private Path file(long segment) {
        return directory.resolve(PREFIX + String.format("%019d", segment) + SUFFIX);
    }

    private void openSegment(long segment) throws IOException {
        current = FileChannel.open(file(segment), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        currentSegment = segment;
        currentBytes = 0;
        segments.add(segment);
    }

    /** Appends one record (a JSON object, no line breaks); false when the journal is full and keeps nothing. */
    synchronized boolean append(byte[] record) throws IOException {
        long length = record.length + 1L;
        if (bytes + length > maxBytes) {
            return false;
        }
        if (currentBytes > 0 && currentBytes + length > segmentBytes) {
            current.force(false);
            current.close();
            openSegment(currentSegment + 1);
        }
        ByteBuffer line = ByteBuffer.allocate((int) length).put(record).put((byte) '\n').flip();
        while (line.hasRemaining()) {
            current.write(line);
        }
        currentBytes += length;
        bytes += length;
        unforced = true;
        appended.release();
        return true;
    }

    /** Puts what was appended on the disk (the current segment; a finished one was forced when it was closed). */
    void force() throws IOException {
        FileChannel channel;
        synchronized (this) {
            if (!unforced) {
                return;
            }
            unforced = false;
            channel = current;
        }
        try {
            channel.force(false); // outside the lock: appends go on meanwhile
        } catch (ClosedChannelException e) {
            // closed by a roll, which forced it first
        }
    }

    /** The bytes of records not yet taken, about (whole segments until they are removed). */
    synchronized long bytes() {
        return bytes;
    }

    /** Lines skipped because a crash tore them. */
    long tornLines() {
        return tornLines;
    }

    /**
     * Up to {@code max} records not yet taken, oldest first, from one segment; waits up to {@code wait} for one when
     * there is none. Empty when none came.
     */
    Batch next(int max, Duration wait) throws IOException, InterruptedException {
        appended.drainPermits();
        Batch batch = read(max);
        if (batch.records().isEmpty() && appended.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            batch = read(max);
        }
        return batch;
    }

    private Batch read(int max) throws IOException {
        while (true) {
            long segment;
            boolean finished;
            synchronized (this) {
                segment = segments.first();
                finished = segment != currentSegment;
            }
            List<byte[]> records = new ArrayList<>();
            long end = readOffset;
            try (FileChannel in = FileChannel.open(file(segment), StandardOpenOption.READ)) {
                ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(READ, Math.max(0, in.size() - readOffset)));
                while (buffer.hasRemaining() && in.read(buffer, readOffset + buffer.position()) > 0) {
                    // read on
                }
                byte[] read = buffer.array();
                int start = 0;
                for (int i = 0; i < buffer.position() && records.size() < max; i++) {
                    if (read[i] == '\n') {
                        records.add(java.util.Arrays.copyOfRange(read, start, i));
                        start = i + 1;
                    }
                }
                end = readOffset + start;
                if (records.isEmpty() && finished) {
                    if (in.size() > readOffset) {
                        tornLines++; // the rest of a finished segment that holds no line end: torn by a crash
                    }
                    remove(segment);
                    continue;
                }
            }
            return new Batch(records, segment, end);
        }
    }

    /** The records of the batch are recorded: the next read starts after them; a finished segment read to its end goes. */
    void taken(Batch batch) throws IOException {
        readOffset = batch.end();
        boolean finished;
        synchronized (this) {
            finished = batch.segment() != currentSegment;
        }
        if (finished && readOffset >= Files.size(file(batch.segment()))) {
            remove(batch.segment());
        }
    }

    private void remove(long segment) throws IOException {
        long size = Files.size(file(segment));
        Files.delete(file(segment));
        synchronized (this) {
            segments.remove(segment);
            bytes -= size;
        }
        readOffset = 0;
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            current.force(false);
            current.close();
        } finally {
            lock.release();
            lockFile.close();
        }
    }
}
