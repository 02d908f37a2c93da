package org.patientimages.worker.storage;

import org.springframework.stereotype.Component;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * The bucket the images live in. Files above the multipart threshold are sent in parts; an interrupted
 * multipart upload is aborted so that no parts are left behind. The SHA-256 of the bytes is computed while
 * they are sent, in the same pass: bytes that are not what was accepted are never left in the bucket.
 */
@Component
public class ObjectStore {

    static final String SHA256_METADATA = "sha256";

    private final S3Client s3;
    private final StorageProperties properties;

    ObjectStore(S3Client s3, StorageProperties properties) {
        this.s3 = s3;
        this.properties = properties;
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
        try {
            HeadObjectResponse head = s3.headObject(b -> b.bucket(bucket).key(key));
            return Optional.of(new StoredObject(head.contentLength(), head.metadata().get(SHA256_METADATA), head.eTag()));
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

    /** The bytes sent do not have the SHA-256 they were accepted with; nothing of them stays in the bucket. */
    public static final class ContentMismatchException extends RuntimeException {
        public ContentMismatchException(String key) {
            super("the bytes sent for " + key + " do not have the expected SHA-256");
        }
    }

    /**
     * Stores a file under a key, served later as an attachment of the given type, verifying on the way that
     * its bytes have the given SHA-256.
     *
     * @param progress told the number of bytes stored so far after each part but the last (a file sent in one
     *                 request has no progress to tell: the answer is the end)
     * @throws ContentMismatchException when they do not (the object or its parts are removed)
     */
    public void put(String key, Path file, long size, String sha256, String contentType, LongConsumer progress) {
        Map<String, String> metadata = Map.of(SHA256_METADATA, sha256);
        if (size <= multipartThreshold()) {
            HashedSlice whole = new HashedSlice(file, 0, size, HashedSlice.newDigest());
            s3.putObject(b -> b.bucket(bucket()).key(key).contentType(contentType).contentLength(size)
                            .contentDisposition("attachment").metadata(metadata),
                    RequestBody.fromContentProvider(whole::open, size, contentType));
            if (!HashedSlice.hex(whole.digest()).equals(sha256)) {
                delete(key);
                throw new ContentMismatchException(key);
            }
            return;
        }
        MessageDigest[] running = {HashedSlice.newDigest()}; // the digest of every byte sent so far
        inParts(key, contentType, metadata, size, properties.partSize().toBytes(), (uploadId, number, offset, length) -> {
            HashedSlice part = new HashedSlice(file, offset, length, running[0]);
            String etag = s3.uploadPart(b -> b.bucket(bucket()).key(key).uploadId(uploadId).partNumber(number)
                            .contentLength(length),
                    RequestBody.fromContentProvider(part::open, length, contentType)).eTag();
            running[0] = part.digest();
            return etag;
        }, () -> {
            if (!HashedSlice.hex(running[0]).equals(sha256)) {
                throw new ContentMismatchException(key); // aborted: the parts never become an object
            }
        }, progress);
    }

    /** Sends or copies the part of a multipart upload that holds bytes [offset, offset + length); its ETag. */
    private interface PartWriter {
        String write(String uploadId, int number, long offset, long length);
    }

    /**
     * A multipart upload: parts left under the key by a dead attempt aborted first, the parts written in order,
     * {@code beforeCompletion} given the last word, then completed; aborted on any failure, so that no parts stay.
     */
    private void inParts(String key, String contentType, Map<String, String> metadata, long size, long partSize,
                         PartWriter writer, Runnable beforeCompletion, LongConsumer progress) {
        abortIncompleteUploads(key);
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket()).key(key).contentType(contentType)
                .contentDisposition("attachment").metadata(metadata)).uploadId();
        try {
            List<CompletedPart> parts = new ArrayList<>();
            for (long offset = 0; offset < size; offset += partSize) {
                int number = parts.size() + 1;
                long length = Math.min(partSize, size - offset);
                parts.add(CompletedPart.builder().partNumber(number)
                        .eTag(writer.write(uploadId, number, offset, length)).build());
                if (offset + length < size) {
                    progress.accept(offset + length);
                }
            }
            beforeCompletion.run();
            s3.completeMultipartUpload(b -> b.bucket(bucket()).key(key).uploadId(uploadId)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()));
        } catch (RuntimeException e) {
            try {
                s3.abortMultipartUpload(b -> b.bucket(bucket()).key(key).uploadId(uploadId));
            } catch (RuntimeException abortFailed) {
                e.addSuppressed(abortFailed);
            }
            throw e;
        }
    }

    /**
     * Copies an object of another bucket into place, server-side, served as an attachment of the given type and
     * recorded with the given SHA-256; only if the source is still the object described (its ETag). Objects above
     * the multipart threshold are copied in parts, as they are sent in parts: with progress, and within what one
     * copy request may take (5 GiB).
     *
     * @param progress told the number of bytes copied so far after each part but the last
     */
    public void copy(String sourceBucket, String sourceKey, StoredObject source, String key, String sha256,
                     String contentType, LongConsumer progress) {
        Map<String, String> metadata = Map.of(SHA256_METADATA, sha256);
        long size = source.sizeBytes();
        if (size <= multipartThreshold()) {
            s3.copyObject(b -> b.sourceBucket(sourceBucket).sourceKey(sourceKey).copySourceIfMatch(source.eTag())
                    .destinationBucket(bucket()).destinationKey(key).metadataDirective(MetadataDirective.REPLACE)
                    .contentType(contentType).contentDisposition("attachment").metadata(metadata));
            return;
        }
        long partSize = Math.max(properties.partSize().toBytes(), size / 9_000 + 1); // at most 10,000 parts
        inParts(key, contentType, metadata, size, partSize, (uploadId, number, offset, length) ->
                s3.uploadPartCopy(b -> b.sourceBucket(sourceBucket).sourceKey(sourceKey)
                        .copySourceIfMatch(source.eTag()).copySourceRange("bytes=" + offset + "-" + (offset + length - 1))
                        .destinationBucket(bucket()).destinationKey(key).uploadId(uploadId).partNumber(number))
                        .copyPartResult().eTag(), () -> { }, progress);
    }

    /** The SHA-256 of an object of a bucket, read through; only if it is still the object of that ETag. */
    public String sha256(String bucket, String key, String eTag) {
        return readThrough(bucket, key, eTag, OutputStream.nullOutputStream());
    }

    /**
     * Writes an object of a bucket to a file (replacing what it held) and tells the SHA-256 of the bytes written;
     * only if it is still the object of that ETag.
     */
    public String download(String bucket, String key, String eTag, Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            return readThrough(bucket, key, eTag, out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    private String readThrough(String bucket, String key, String eTag, OutputStream out) {
        MessageDigest digest = HashedSlice.newDigest();
        try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(key).ifMatch(eTag))) {
            byte[] buffer = new byte[256 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                digest.update(buffer, 0, n);
                out.write(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + key, e);
        }
        return HexFormat.of().formatHex(digest.digest());
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

    /**
     * {@code length} bytes of a file from {@code offset}, hashed as they are read, continuing the digest of
     * the bytes before them. The SDK may open the slice more than once (a retried request): the digest is that
     * of the last stream opened, and the slice is hashed again from the file if that one was not read through.
     */
    private static final class HashedSlice {
        private final Path file;
        private final long offset;
        private final long length;
        private final MessageDigest before;
        private BoundedInputStream last;

        HashedSlice(Path file, long offset, long length, MessageDigest before) {
            this.file = file;
            this.offset = offset;
            this.length = length;
            this.before = before;
        }

        InputStream open() {
            try {
                FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
                last = new BoundedInputStream(Channels.newInputStream(channel), length, copy(before));
                return last;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The digest of everything up to the end of this slice. */
        MessageDigest digest() {
            if (last != null && last.remaining == 0) {
                return last.digest;
            }
            try (InputStream again = open()) {
                again.transferTo(OutputStream.nullOutputStream());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return last.digest;
        }

        static MessageDigest newDigest() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        static String hex(MessageDigest digest) {
            return HexFormat.of().formatHex(copy(digest).digest());
        }

        private static MessageDigest copy(MessageDigest digest) {
            try {
                return (MessageDigest) digest.clone();
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static final class BoundedInputStream extends java.io.FilterInputStream {
        private final MessageDigest digest;
        private long remaining;

        BoundedInputStream(InputStream in, long length, MessageDigest digest) {
            super(in);
            this.remaining = length;
            this.digest = digest;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                remaining--;
                digest.update((byte) b);
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
                digest.update(buffer, off, n);
            }
            return n;
        }

        @Override
        public long skip(long n) {
            throw new UnsupportedOperationException("a hashed slice is read, not skipped");
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), remaining);
        }
    }
}
