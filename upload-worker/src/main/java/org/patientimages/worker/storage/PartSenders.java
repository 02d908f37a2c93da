package org.patientimages.worker.storage;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that send the parts of multipart uploads, and the buffers that hold the parts read from staged
 * files: at most {@code count} buffers of {@code partSize} bytes, shared by all jobs. A job that wants another
 * while all are out waits until a part of some job has been sent, so the memory that parts take is bounded by
 * {@code count × partSize} whatever the file sizes and however many jobs run. The buffers are direct (outside
 * the heap: a file is read into one without a copy through a temporary one), made when first needed and kept
 * for the next part.
 */
final class PartSenders implements AutoCloseable {

    private final int partSize;
    private final Semaphore available;
    private final ConcurrentLinkedQueue<ByteBuffer> spare = new ConcurrentLinkedQueue<>();
    private final ExecutorService threads;

    PartSenders(int count, int partSize) {
        if (count < 1) {
            throw new IllegalArgumentException("at least one part must be sendable at a time, not " + count);
        }
        this.partSize = partSize;
        this.available = new Semaphore(count, true);
        AtomicInteger made = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(count, task -> {
            Thread thread = new Thread(task, "part-sender-" + made.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** An empty buffer of {@code partSize} bytes, once fewer than {@code count} are out; to be given back. */
    ByteBuffer take() throws InterruptedException {
        available.acquire();
        ByteBuffer buffer = spare.poll();
        return buffer != null ? buffer.clear() : ByteBuffer.allocateDirect(partSize);
    }

    void giveBack(ByteBuffer buffer) {
        spare.add(buffer);
        available.release();
    }

    /** Where the parts are sent from: one thread per buffer. */
    ExecutorService threads() {
        return threads;
    }

    /** The bytes of a buffer from its position to its limit, read from the start each time it is opened. */
    static InputStream read(ByteBuffer bytes) {
        ByteBuffer from = bytes.duplicate();
        return new InputStream() {
            @Override
            public int read() {
                return from.hasRemaining() ? from.get() & 0xff : -1;
            }

            @Override
            public int read(byte[] into, int offset, int length) {
                if (length == 0) {
                    return 0;
                }
                if (!from.hasRemaining()) {
                    return -1;
                }
                int n = Math.min(length, from.remaining());
                from.get(into, offset, n);
                return n;
            }

            @Override
            public int available() {
                return from.remaining();
            }
        };
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
