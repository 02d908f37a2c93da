package org.patientimages.worker.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * The bucket the images live in. Files above the multipart threshold are sent in parts; an interrupted
 * multipart upload is aborted so that no parts are left behind. Bytes that are not what was accepted are never
 * left in the bucket: a file sent in one request carries its accepted SHA-256, which the store checks against the
 * bytes it receives; a file sent in parts, or to a store that does not check, is hashed by the worker while it is
 * sent, in the same pass.
 */
@Component
public class ObjectStore implements AutoCloseable {

    static final String SHA256_METADATA = "sha256";
    static final String PATIENT_METADATA = "patient-id";
    static final String JOB_METADATA = "job-id";
    private static final Logger log = LoggerFactory.getLogger(ObjectStore.class);

    private final S3Client s3;
    private final StorageProperties properties;
    private final PartSenders senders;
    /** Whether the store checks the SHA-256 sent with a request: until its answer shows that it does not. */
    private final AtomicBoolean storeChecks;

    ObjectStore(S3Client s3, StorageProperties properties) {
        this.s3 = s3;
        this.properties = properties;
        this.senders = new PartSenders(properties.parallelParts(), Math.toIntExact(properties.partSize().toBytes()));
        this.storeChecks = new AtomicBoolean(properties.checksumByStore());
    }

    /** The part senders stop with the worker. */
    @Override
    public void close() {
        senders.close();
    }

    public String bucket() {
        return properties.bucket();
    }

    /** Files larger than this go up in parts. */
    public long multipartThreshold() {
        return properties.multipartThreshold().toBytes();
    }

    /** An object's size and the SHA-256 recorded with it, if the object exists. */
    public Optional<StoredObject> head(String key) {
        return head(bucket(), key);
    }

    /** The same, of an object of another bucket (the staging bucket). */
    public Optional<StoredObject> head(String bucket, String key) {
        return unlessMissing(() -> {
            HeadObjectResponse head = s3.headObject(b -> b.bucket(bucket).key(key));
            return new StoredObject(head.contentLength(), head.metadata().get(SHA256_METADATA), head.eTag());
        });
    }

    /** What a call about one object answers, or empty when there is no object under its key. */
    private static <T> Optional<T> unlessMissing(java.util.function.Supplier<T> call) {
        try {
            return Optional.of(call.get());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** @param sha256 as recorded with the object, null if none was */
    public record StoredObject(long sizeBytes, String sha256, String eTag) {
    }

    /**
     * What an image's original is stored with besides its bytes, as the object's user metadata: the SHA-256 the
     * bytes must have ({@code sha256}), and the patient and the job they were uploaded for ({@code patient-id},
     * {@code job-id}; either may be null). Should the image's row be lost (a database restored to an earlier point),
     * the gateway's orphan report reads them, and an admin can give the image back to its patient.
     */
    public record Recorded(String sha256, String patientId, String jobId) {

        Map<String, String> metadata() {
            Map<String, String> metadata = new java.util.LinkedHashMap<>();
            metadata.put(SHA256_METADATA, sha256);
            if (patientId != null) {
                metadata.put(PATIENT_METADATA, patientId);
            }
            if (jobId != null) {
                metadata.put(JOB_METADATA, jobId);
            }
            return metadata;
        }
    }

    /** The bytes sent do not have the SHA-256 they were accepted with; nothing of them stays in the bucket. */
    public static final class ContentMismatchException extends RuntimeException {
        public ContentMismatchException(String key) {
            super("the bytes sent for " + key + " do not have the expected SHA-256");
        }
    }

    /**
     * Stores a file under a key, served later as an attachment of the given type, verifying on the way that
     * its bytes have the SHA-256 recorded with them. A file up to the multipart threshold goes in one request,
     * checked by the store (or hashed as it is sent, see {@link #putCheckedByStore}). A file above it is read in
     * order, each part into a buffer and hashed there, and the parts are sent from their buffers, several at a time:
     * the SHA-256 is still that of the bytes sent.
     *
     * @param progress told the number of bytes stored so far after each part but the last to be stored (a file
     *                 sent in one request has no progress to tell: the answer is the end)
     * @throws ContentMismatchException when they do not (the object or its parts are removed)
     */
    public void put(String key, Path file, long size, Recorded recorded, String contentType, LongConsumer progress) {
        String sha256 = recorded.sha256();
        Map<String, String> metadata = recorded.metadata();
        if (size <= multipartThreshold()) {
            if (!storeChecks.get() || !putCheckedByStore(key, file, size, sha256, contentType, metadata)) {
                putHashed(key, file, size, sha256, contentType, metadata);
            }
            return;
        }
        MessageDigest read = newDigest(); // of every byte read into a part so far, in order
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            inParts(key, contentType, metadata, size, properties.partSize().toBytes(), (uploadId, number, offset, length) -> {
                ByteBuffer buffer = senders.take();
                try {
                    readFully(channel, buffer.limit((int) length), offset);
                } catch (IOException | RuntimeException e) {
                    senders.giveBack(buffer);
                    throw e;
                }
                read.update(buffer.flip().duplicate());
                return () -> {
                    try {
                        // a retried request reads the same buffer again: the bytes hashed are the bytes sent
                        return s3.uploadPart(b -> b.bucket(bucket()).key(key).uploadId(uploadId).partNumber(number)
                                        .contentLength(length),
                                RequestBody.fromContentProvider(() -> PartSenders.read(buffer), length, contentType))
                                .eTag();
                    } finally {
                        senders.giveBack(buffer);
                    }
                };
            }, () -> {
                if (!hex(read).equals(sha256)) {
                    throw new ContentMismatchException(key); // aborted: the parts never become an object
                }
            }, progress);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    /**
     * Sends a file in one request with its accepted SHA-256 ({@code x-amz-checksum-sha256}) for the store to check
     * against the bytes it receives; the worker does not hash them. A store that finds other bytes refuses them
     * ({@code BadDigest}): nothing is kept. True when the store's answer confirms that SHA-256. False when it does
     * not, from a store that ignores the header: the caller then sends the file again, hashing it itself, and so
     * does every later request of this worker.
     */
    private boolean putCheckedByStore(String key, Path file, long size, String sha256, String contentType,
                                      Map<String, String> metadata) {
        String checksum = Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256));
        PutObjectResponse answer;
        try {
            answer = putWhole(key, size, contentType, metadata, checksum, () -> slice(file, size));
        } catch (S3Exception e) {
            if (e.awsErrorDetails() != null && "BadDigest".equals(e.awsErrorDetails().errorCode())) {
                throw new ContentMismatchException(key);
            }
            throw e;
        }
        if (checksum.equals(answer.checksumSHA256())) {
            return true;
        }
        if (storeChecks.compareAndSet(true, false)) {
            log.warn("the object store does not confirm the SHA-256 sent with an object (x-amz-checksum-sha256): "
                    + "the worker hashes what it sends from now on");
        }
        return false;
    }

    /** Sends a file in one request, hashed as it is sent; removed again when its bytes are not the accepted ones. */
    private void putHashed(String key, Path file, long size, String sha256, String contentType,
                           Map<String, String> metadata) {
        HashedFile whole = new HashedFile(file, size);
        putWhole(key, size, contentType, metadata, null, whole::open);
        if (!hex(whole.digest()).equals(sha256)) {
            delete(key);
            throw new ContentMismatchException(key);
        }
    }

    /**
     * One request with the whole object, served as an attachment; {@code checksum}: the base64 SHA-256 for the
     * store to check, or null for none.
     */
    private PutObjectResponse putWhole(String key, long size, String contentType, Map<String, String> metadata,
                                       String checksum, ContentStreamProvider body) {
        return s3.putObject(b -> b.bucket(bucket()).key(key).contentType(contentType).contentLength(size)
                        .contentDisposition("attachment").metadata(metadata).checksumSHA256(checksum),
                RequestBody.fromContentProvider(body, size, contentType));
    }

    /** Fills the buffer up to its limit with the file's bytes from {@code offset}. */
    private static void readFully(FileChannel channel, ByteBuffer into, long offset) throws IOException {
        while (into.hasRemaining()) {
            if (channel.read(into, offset + into.position()) < 0) {
                throw new IOException("the file ended " + into.remaining() + " bytes early");
            }
        }
    }

    /**
     * The part of a multipart upload that holds bytes [offset, offset + length): made ready on the job's thread,
     * in order (read and hashed, or nothing to do for a copy), then sent on a sender thread, giving its ETag.
     */
    private interface PartWriter {
        Callable<String> prepare(String uploadId, int number, long offset, long length)
                throws IOException, InterruptedException;
    }

    private record SentPart(int number, long length, String eTag) {
    }

    /**
     * A multipart upload: parts left under the key by a dead attempt aborted first, the parts made ready in order
     * and sent several at a time ({@code patient-images.storage.parallel-parts} across the worker),
     * {@code beforeCompletion} given the last word once all are sent, then completed. On any failure the parts
     * still being sent are waited for and the upload is aborted, so that no parts stay.
     */
    private void inParts(String key, String contentType, Map<String, String> metadata, long size, long partSize,
                         PartWriter writer, Runnable beforeCompletion, LongConsumer progress) {
        abortIncompleteUploads(key);
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket()).key(key).contentType(contentType)
                .contentDisposition("attachment").metadata(metadata)).uploadId();
        CompletionService<SentPart> sending = new ExecutorCompletionService<>(senders.threads());
        List<SentPart> sent = new ArrayList<>();
        int inFlight = 0;
        try {
            for (long offset = 0; offset < size; offset += partSize) {
                int number = (int) (offset / partSize) + 1;
                long length = Math.min(partSize, size - offset);
                Callable<String> send = writer.prepare(uploadId, number, offset, length);
                sending.submit(() -> new SentPart(number, length, send.call()));
                inFlight++;
                for (Future<SentPart> part; (part = sending.poll()) != null; ) {
                    inFlight--;
                    collect(part, sent, size, progress);
                }
            }
            while (inFlight > 0) {
                Future<SentPart> part = sending.take();
                inFlight--;
                collect(part, sent, size, progress);
            }
            beforeCompletion.run();
            List<CompletedPart> parts = sent.stream().sorted(Comparator.comparingInt(SentPart::number))
                    .map(p -> CompletedPart.builder().partNumber(p.number()).eTag(p.eTag()).build()).toList();
            s3.completeMultipartUpload(b -> b.bucket(bucket()).key(key).uploadId(uploadId)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()));
        } catch (Exception e) {
            RuntimeException failure = unchecked(e);
            awaitSent(sending, inFlight, failure);
            try {
                s3.abortMultipartUpload(b -> b.bucket(bucket()).key(key).uploadId(uploadId));
            } catch (RuntimeException abortFailed) {
                failure.addSuppressed(abortFailed);
            }
            throw failure;
        }
    }

    /** A part that has been sent, among those sent; the bytes they hold told as progress unless they are all. */
    private static void collect(Future<SentPart> part, List<SentPart> sent, long size, LongConsumer progress)
            throws ExecutionException, InterruptedException {
        sent.add(part.get());
        long stored = sent.stream().mapToLong(SentPart::length).sum();
        if (stored < size) {
            progress.accept(stored);
        }
    }

    /** After a failure: the parts still being sent end before the upload is aborted (a part sent after it would stay). */
    private static void awaitSent(CompletionService<SentPart> sending, int inFlight, Exception failure) {
        for (; inFlight > 0; inFlight--) {
            try {
                sending.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.addSuppressed(e);
                return;
            }
        }
    }

    private static RuntimeException unchecked(Exception e) {
        if (e instanceof ExecutionException && e.getCause() instanceof RuntimeException cause) {
            return cause;
        }
        if (e instanceof RuntimeException runtime) {
            return runtime;
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        if (e instanceof IOException io) {
            return new UncheckedIOException(io);
        }
        return new IllegalStateException("a part was not sent", e instanceof ExecutionException ? e.getCause() : e);
    }

    /**
     * Copies an object of another bucket into place, server-side, served as an attachment of the given type and
     * recorded as given; only if the source is still the object described (its ETag). Objects above
     * the multipart threshold are copied in parts, as they are sent in parts: with progress, and within what one
     * copy request may take (5 GiB).
     *
     * @param progress told the number of bytes copied so far after each part but the last
     */
    public void copy(String sourceBucket, String sourceKey, StoredObject source, String key, Recorded recorded,
                     String contentType, LongConsumer progress) {
        Map<String, String> metadata = recorded.metadata();
        long size = source.sizeBytes();
        if (size <= multipartThreshold()) {
            s3.copyObject(b -> b.sourceBucket(sourceBucket).sourceKey(sourceKey).copySourceIfMatch(source.eTag())
                    .destinationBucket(bucket()).destinationKey(key).metadataDirective(MetadataDirective.REPLACE)
                    .contentType(contentType).contentDisposition("attachment").metadata(metadata));
            return;
        }
        long partSize = Math.max(properties.partSize().toBytes(), size / 9_000 + 1); // at most 10,000 parts
        inParts(key, contentType, metadata, size, partSize, (uploadId, number, offset, length) -> () ->
                s3.uploadPartCopy(b -> b.sourceBucket(sourceBucket).sourceKey(sourceKey)
                        .copySourceIfMatch(source.eTag()).copySourceRange("bytes=" + offset + "-" + (offset + length - 1))
                        .destinationBucket(bucket()).destinationKey(key).uploadId(uploadId).partNumber(number))
                        .copyPartResult().eTag(), () -> { }, progress);
    }

    /** The SHA-256 of an object of a bucket, read through; only if it is still the object of that ETag. */
    public String sha256(String bucket, String key, String eTag) {
        return readThrough(bucket, key, eTag, OutputStream.nullOutputStream()).sha256();
    }

    /** What an object's bytes are, read through: their number and SHA-256. */
    public record Fingerprint(long sizeBytes, String sha256) {
    }

    /** Reads an object through to tell what its bytes are; empty when there is no object under the key. */
    public Optional<Fingerprint> fingerprint(String bucket, String key) {
        return unlessMissing(() -> readThrough(bucket, key, null, OutputStream.nullOutputStream()));
    }

    /**
     * Reads an object through to tell what its bytes are, writing them to a file (replacing what it held); empty
     * when there is no object under the key.
     */
    public Optional<Fingerprint> fingerprint(String bucket, String key, Path copy) {
        return unlessMissing(() -> download(bucket, key, null, copy));
    }

    /**
     * Writes an object of a bucket to a file (replacing what it held) and tells what the bytes written are; only if
     * it is still the object of that ETag (null: whatever object is there).
     */
    public Fingerprint download(String bucket, String key, String eTag, Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            return readThrough(bucket, key, eTag, out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    /** @param eTag the object must still have it; null for whatever object is there */
    private Fingerprint readThrough(String bucket, String key, String eTag, OutputStream out) {
        MessageDigest digest = newDigest();
        long size = 0;
        try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(key).ifMatch(eTag))) {
            byte[] buffer = new byte[256 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; size += n) {
                digest.update(buffer, 0, n);
                out.write(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + key, e);
        }
        return new Fingerprint(size, HexFormat.of().formatHex(digest.digest()));
    }

    /** Stores a small derived object (a thumbnail), served inline with its content type. */
    public void putBytes(String key, byte[] bytes, String contentType) {
        s3.putObject(b -> b.bucket(bucket()).key(key).contentType(contentType).contentLength((long) bytes.length),
                RequestBody.fromBytes(bytes));
    }

    /** Parts that an attempt which died mid-upload left behind under this key are removed. */
    private void abortIncompleteUploads(String key) {
        s3.listMultipartUploads(b -> b.bucket(bucket()).prefix(key)).uploads().stream()
                .filter(u -> u.key().equals(key))
                .forEach(u -> s3.abortMultipartUpload(b -> b.bucket(bucket()).key(key).uploadId(u.uploadId())));
    }

    /** Removes every object whose key starts with the prefix; what is already gone is fine. */
    public int deleteAll(String prefix) {
        int deleted = 0;
        for (var object : s3.listObjectsV2Paginator(b -> b.bucket(bucket()).prefix(prefix)).contents()) {
            s3.deleteObject(b -> b.bucket(bucket()).key(object.key()));
            deleted++;
        }
        return deleted;
    }

    public void delete(String key) {
        delete(bucket(), key);
    }

    public void delete(String bucket, String key) {
        s3.deleteObject(b -> b.bucket(bucket).key(key));
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The hex SHA-256 of what the digest has been given so far; the digest itself goes on. */
    static String hex(MessageDigest digest) {
        try {
            return HexFormat.of().formatHex(((MessageDigest) digest.clone()).digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first {@code length} bytes of a file. */
    private static BoundedInputStream slice(Path file, long length) {
        try {
            return new BoundedInputStream(Files.newInputStream(file), length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The first {@code length} bytes of a file, hashed as they are read. The SDK may open the file more than once
     * (a retried request): the digest is that of the last stream opened, and the file is hashed again if that
     * one was not read through.
     */
    private static final class HashedFile {
        private final Path file;
        private final long length;
        private BoundedInputStream last;
        private MessageDigest lastDigest;

        HashedFile(Path file, long length) {
            this.file = file;
            this.length = length;
        }

        InputStream open() {
            last = slice(file, length);
            lastDigest = newDigest();
            return new DigestInputStream(last, lastDigest);
        }

        MessageDigest digest() {
            if (last != null && last.remaining == 0) {
                return lastDigest;
            }
            try (InputStream again = open()) {
                again.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return lastDigest;
        }
    }

    private static final class BoundedInputStream extends java.io.FilterInputStream {
        private long remaining;

        BoundedInputStream(InputStream in, long length) {
            super(in);
            this.remaining = length;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(buffer, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public long skip(long n) {
            throw new UnsupportedOperationException("a slice is read, not skipped");
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), remaining);
        }
    }
}
