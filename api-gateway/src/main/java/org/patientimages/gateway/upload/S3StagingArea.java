package org.patientimages.gateway.upload;

import org.patientimages.gateway.storage.DownloadLinks;
import org.patientimages.gateway.storage.StoreClients;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The staging area as a bucket, for workers on other hosts than the gateway. An upload is streamed into the
 * object of its key: in one request when it fits in a part, else as a multipart upload, one part in memory at a
 * time. The object appears only when complete (S3 makes a PUT or a completed multipart upload visible at once),
 * so whatever is under a key is complete; an upload that fails is aborted and leaves nothing.
 */
@Component
@ConditionalOnProperty(name = "patient-images.staging.mode", havingValue = "s3")
class S3StagingArea implements StagingArea, AutoCloseable {

    private final S3Client s3;
    private final String bucket;
    private final int partSize;

    S3StagingArea(StagingProperties staging, DownloadLinks.StorageProperties storage) {
        this.s3 = StoreClients.s3Client(storage);
        this.bucket = staging.bucket();
        this.partSize = Math.toIntExact(Math.max(5L << 20, staging.partSize().toBytes())); // S3's smallest part
    }

    @Override
    public Staged write(String key, InputStream in, long maxBytes, Consumer<byte[]> checkHead) throws IOException {
        Intake intake = new Intake(maxBytes, checkHead);
        byte[] part = new byte[(int) Math.min(partSize, maxBytes + 1)];
        int filled = fill(in, part, intake);
        if (filled < part.length) {
            Staged staged = intake.end(key);
            unavailableIfFails(() -> s3.putObject(b -> b.bucket(bucket).key(key).contentLength((long) filled),
                    body(part, filled)));
            return staged;
        }
        String uploadId = unavailableIfFails(() -> s3.createMultipartUpload(b -> b.bucket(bucket).key(key)).uploadId());
        boolean done = false;
        try {
            List<CompletedPart> parts = new ArrayList<>();
            for (int length = filled; length > 0; length = fill(in, part, intake)) {
                int number = parts.size() + 1;
                int partLength = length;
                String etag = unavailableIfFails(() -> s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId)
                        .partNumber(number).contentLength((long) partLength), body(part, partLength)).eTag());
                parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            }
            Staged staged = intake.end(key);
            unavailableIfFails(() -> s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts))));
            done = true;
            return staged;
        } finally {
            if (!done) {
                abort(key, uploadId);
            }
        }
    }

    /** Reads until the part is full or the body ends; the number of bytes read. */
    private static int fill(InputStream in, byte[] part, Intake intake) throws IOException {
        int filled = 0;
        for (int n; filled < part.length && (n = in.read(part, filled, part.length - filled)) >= 0; ) {
            intake.take(part, filled, n);
            filled += n;
        }
        return filled;
    }

    private static RequestBody body(byte[] part, int length) {
        return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(part, 0, length), length,
                "application/octet-stream");
    }

    private void abort(String key, String uploadId) {
        try {
            s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
        } catch (SdkException e) {
            // the sweeper aborts what is left once it is older than the grace period
        }
    }

    /** The object is in place as soon as it is written: nothing more to do. */
    @Override
    public void commit(Staged staged) {
    }

    @Override
    public void discard(String key) {
        unavailableIfFails(() -> s3.deleteObject(b -> b.bucket(bucket).key(key)));
    }

    /** Staged objects, and multipart uploads never completed (as {@code <key>.part}), older than the cutoff. */
    @Override
    public List<Entry> olderThan(Instant cutoff) {
        return unavailableIfFails(() -> {
            List<Entry> old = new ArrayList<>();
            s3.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream()
                    .filter(o -> o.lastModified().isBefore(cutoff))
                    .forEach(o -> old.add(new Entry(o.key(), o.lastModified())));
            s3.listMultipartUploadsPaginator(b -> b.bucket(bucket)).uploads().stream()
                    .filter(u -> u.initiated().isBefore(cutoff))
                    .forEach(u -> old.add(new Entry(u.key() + ".part", u.initiated())));
            return old;
        });
    }

    @Override
    public void delete(Entry entry) {
        unavailableIfFails(() -> {
            if (entry.incomplete()) {
                for (MultipartUpload u : s3.listMultipartUploads(b -> b.bucket(bucket).prefix(entry.key())).uploads()) {
                    if (u.key().equals(entry.key())) {
                        s3.abortMultipartUpload(b -> b.bucket(bucket).key(entry.key()).uploadId(u.uploadId()));
                    }
                }
            } else {
                s3.deleteObject(b -> b.bucket(bucket).key(entry.key()));
            }
            return null;
        });
    }

    @Override
    public boolean isWritable() {
        try {
            s3.headBucket(b -> b.bucket(bucket).overrideConfiguration(o -> o.apiCallTimeout(Duration.ofSeconds(2))));
            return true;
        } catch (SdkException e) {
            return false;
        }
    }

    /** A staging bucket that cannot be reached: see {@link StagingArea#unavailable()}. */
    private static <T> T unavailableIfFails(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (SdkException e) {
            throw StagingArea.unavailable();
        }
    }

    @Override
    public void close() {
        s3.close();
    }
}
