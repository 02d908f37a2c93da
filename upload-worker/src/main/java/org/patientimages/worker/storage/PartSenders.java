package org.patientimages.worker.storage;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that send the parts of multipart uploads, and the buffers that hold the parts read from staged
 * files: at most {@code count} buffers of {@code partSize} bytes, shared by all jobs. A job that wants another
 * while all are in use waits until a part of some job has been sent, so the heap that parts take is bounded
 * by {@code count × partSize} whatever the file sizes and however many jobs run. A buffer is made when first
 * needed and kept for the next part.
 */
final class PartSenders implements AutoCloseable {

    private final int partSize;
    private final Semaphore available;
    private final ConcurrentLinkedQueue<byte[]> spare = new ConcurrentLinkedQueue<>();
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

    /** A buffer of {@code partSize} bytes, once one is free; to be given back with {@link #giveBack}. */
    byte[] take() throws InterruptedException {
        available.acquire();
        byte[] buffer = spare.poll();
        return buffer != null ? buffer : new byte[partSize];
    }

    void giveBack(byte[] buffer) {
        spare.add(buffer);
        available.release();
    }

    /** Where the parts are sent from: one thread per buffer. */
    ExecutorService threads() {
        return threads;
    }

    @Override
    public void close() {
        threads.shutdownNow();
    }
}
