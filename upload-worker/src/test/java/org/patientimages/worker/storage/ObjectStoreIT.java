package org.patientimages.worker.storage;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.localstack.LocalS3;
import org.springframework.util.unit.DataSize;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Uploads against a real S3 API server: a file in one request checked by the store, multipart uploads with parts
 * sent several at a time, and every way each can end.
 */
class ObjectStoreIT {

    static final String BUCKET = "objects";
    static final LocalS3 s3 = LocalS3.startTransient().createBucket(BUCKET);
    static final int PART = 5 * 1024 * 1024;

    /** Counts the parts being sent at once, and fails the parts it is told to. */
    static final class Parts implements ExecutionInterceptor {
        final AtomicInteger sending = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();
        volatile int failing;

        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof UploadPartRequest part) {
                if (part.partNumber() == failing) {
                    throw new IllegalStateException("part " + failing + " refused by the test");
                }
                mostAtOnce.accumulateAndGet(sending.incrementAndGet(), Math::max);
            }
        }

        @Override
        public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
            if (context.request() instanceof UploadPartRequest) {
                sending.decrementAndGet();
            }
        }
    }

    static final String CHECKSUM_HEADER = "x-amz-checksum-sha256";

    /**
     * Notes whether each single-request PUT carries a SHA-256 for the store to check; takes it off when told to,
     * as a store that ignores the header would.
     */
    static final class Puts implements ExecutionInterceptor {
        final List<Boolean> carriedSha256 = new CopyOnWriteArrayList<>();
        volatile boolean storeIgnoresSha256;

        @Override
        public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
            SdkHttpRequest request = context.httpRequest();
            if (!(context.request() instanceof PutObjectRequest)) {
                return request;
            }
            carriedSha256.add(request.firstMatchingHeader(CHECKSUM_HEADER).isPresent());
            return storeIgnoresSha256 ? request.toBuilder().removeHeader(CHECKSUM_HEADER).build() : request;
        }
    }

    final Parts parts = new Parts();
    final Puts puts = new Puts();
    final S3Client client = S3Client.builder()
            .endpointOverride(s3.endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
            .credentialsProvider(StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(LocalS3.DEV_ACCESS_KEY, LocalS3.DEV_SECRET_KEY)))
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .overrideConfiguration(o -> o.addExecutionInterceptor(parts).addExecutionInterceptor(puts))
            .build();

    @TempDir
    Path dir;

    @AfterAll
    static void stop() {
        s3.close();
    }

    ObjectStore store(int parallelParts) {
        return store(parallelParts, true);
    }

    ObjectStore store(int parallelParts, boolean checksumByStore) {
        return new ObjectStore(client, new StorageProperties(s3.endpoint(), "us-east-1", LocalS3.DEV_ACCESS_KEY,
                LocalS3.DEV_SECRET_KEY, BUCKET, true, DataSize.ofMegabytes(6), DataSize.ofBytes(PART), parallelParts,
                checksumByStore));
    }

    @Test
    void a_file_sent_in_one_request_is_checked_by_the_store_which_refuses_other_bytes() throws Exception {
        Staged staged = staged(PART); // under the multipart threshold: one request
        Staged other = staged(PART);
        try (ObjectStore store = store(4)) {
            put(store, staged, sha256(staged.bytes()), n -> { });
            assertThatThrownBy(() -> put(store, other, sha256(bytes(PART)), n -> { }))
                    .isInstanceOf(ObjectStore.ContentMismatchException.class);
        }
        assertThat(puts.carriedSha256).containsExactly(true, true);
        assertThat(client.headObject(b -> b.bucket(BUCKET).key(staged.key()).checksumMode(ChecksumMode.ENABLED))
                .checksumSHA256()).isEqualTo(base64(sha256(staged.bytes())));
        assertThat(client.getObject(b -> b.bucket(BUCKET).key(staged.key()), ResponseTransformer.toBytes())
                .asByteArray()).isEqualTo(staged.bytes());
        assertNothingLeft(other.key());
    }

    @Test
    void an_object_read_through_tells_its_size_and_sha256_and_a_missing_one_nothing() throws Exception {
        Staged staged = staged(PART + 12_345);
        try (ObjectStore store = store(1)) {
            put(store, staged, sha256(staged.bytes()), n -> { });
            assertThat(store.fingerprint(BUCKET, staged.key()))
                    .contains(new ObjectStore.Fingerprint(PART + 12_345, sha256(staged.bytes())));
            client.deleteObject(b -> b.bucket(BUCKET).key(staged.key()));
            assertThat(store.fingerprint(BUCKET, staged.key())).isEmpty();
        }
    }

    @Test
    void to_a_store_that_ignores_the_sha256_the_file_goes_again_hashed_by_the_worker_and_so_do_later_ones()
            throws Exception {
        puts.storeIgnoresSha256 = true;
        Staged staged = staged(PART);
        Staged other = staged(PART);
        try (ObjectStore store = store(4)) {
            put(store, staged, sha256(staged.bytes()), n -> { });
            // sent with its SHA-256, not confirmed by the answer, sent again hashed by the worker
            assertThat(puts.carriedSha256).containsExactly(true, false);
            assertThatThrownBy(() -> put(store, other, sha256(bytes(PART)), n -> { }))
                    .isInstanceOf(ObjectStore.ContentMismatchException.class);
            assertThat(puts.carriedSha256).containsExactly(true, false, false);
        }
        assertThat(client.getObject(b -> b.bucket(BUCKET).key(staged.key()), ResponseTransformer.toBytes())
                .asByteArray()).isEqualTo(staged.bytes());
        assertNothingLeft(other.key());
    }

    @Test
    void parts_go_several_at_a_time_but_never_more_than_configured_and_the_object_is_the_file() throws Exception {
        for (int parallel : new int[] {1, 4}) {
            parts.mostAtOnce.set(0);
            Staged staged = staged(8 * PART + 12345); // 9 parts, the last a short one
            List<Long> progress = new CopyOnWriteArrayList<>();
            try (ObjectStore store = store(parallel)) {
                put(store, staged, sha256(staged.bytes()), progress::add);
            }
            assertThat(client.getObject(b -> b.bucket(BUCKET).key(staged.key()), ResponseTransformer.toBytes())
                    .asByteArray()).isEqualTo(staged.bytes());
            assertThat(client.headObject(b -> b.bucket(BUCKET).key(staged.key())).metadata())
                    .containsEntry(ObjectStore.SHA256_METADATA, sha256(staged.bytes()));
            // told after each part but the last to be stored, growing, never the whole file
            assertThat(progress).hasSize(8).isSorted().doesNotHaveDuplicates().allMatch(n -> n < staged.size());
            assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
            if (parallel == 1) {
                assertThat(parts.mostAtOnce.get()).isEqualTo(1);
            } else {
                assertThat(parts.mostAtOnce.get()).isBetween(2, parallel);
            }
        }
    }

    @Test
    void with_the_store_check_turned_off_no_request_carries_the_sha256_and_the_worker_hashes() throws Exception {
        Staged staged = staged(PART);
        Staged other = staged(PART);
        try (ObjectStore store = store(4, false)) {
            put(store, staged, sha256(staged.bytes()), n -> { });
            assertThatThrownBy(() -> put(store, other, sha256(bytes(PART)), n -> { }))
                    .isInstanceOf(ObjectStore.ContentMismatchException.class);
        }
        assertThat(puts.carriedSha256).containsExactly(false, false);
        assertThat(client.getObject(b -> b.bucket(BUCKET).key(staged.key()), ResponseTransformer.toBytes())
                .asByteArray()).isEqualTo(staged.bytes());
        assertNothingLeft(other.key());
    }

    @Test
    void bytes_that_are_not_the_accepted_ones_leave_no_parts_and_no_object() throws Exception {
        Staged staged = staged(3 * PART);
        try (ObjectStore store = store(4)) {
            assertThatThrownBy(() -> put(store, staged, sha256(bytes(3 * PART)), n -> { }))
                    .isInstanceOf(ObjectStore.ContentMismatchException.class);
        }
        assertNothingLeft(staged.key());
    }

    @Test
    void a_part_that_fails_fails_the_upload_once_the_others_are_sent_leaves_nothing_and_frees_its_buffers()
            throws Exception {
        Staged staged = staged(6 * PART);
        // one buffer in all: a failed upload that kept it would leave the next one waiting for ever
        try (ObjectStore store = store(1)) {
            parts.failing = 3;
            for (int attempt = 0; attempt < 2; attempt++) {
                assertThatThrownBy(() -> put(store, staged, sha256(staged.bytes()), n -> { }))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("part 3 refused");
                assertThat(parts.sending.get()).isZero();
                assertNothingLeft(staged.key());
            }
            parts.failing = 0;
            put(store, staged, sha256(staged.bytes()), n -> { });
            assertThat(store.head(staged.key())).get().extracting(ObjectStore.StoredObject::sizeBytes)
                    .isEqualTo(staged.size());
        }
    }

    @Test
    void a_progress_report_that_fails_aborts_the_upload_once_the_parts_in_flight_are_sent() throws Exception {
        Staged staged = staged(4 * PART);
        try (ObjectStore store = store(4)) {
            assertThatThrownBy(() -> put(store, staged, sha256(staged.bytes()), n -> {
                throw new IllegalStateException("the report could not be sent");
            })).hasMessage("the report could not be sent");
            assertThat(parts.sending.get()).isZero();
        }
        assertNothingLeft(staged.key());
    }

    /** A put that does not end within a minute fails the test instead of hanging it (a part waited for in vain). */
    private static void put(ObjectStore store, Staged staged, String sha256, LongConsumer progress) {
        assertTimeoutPreemptively(Duration.ofMinutes(1),
                () -> store.put(staged.key(), staged.file(), staged.size(),
                        new ObjectStore.Recorded(sha256, null, null), "application/octet-stream", progress));
    }

    /** A staged file of random bytes, and the key of a new object for it. */
    private record Staged(byte[] bytes, Path file, String key) {
        long size() {
            return bytes.length;
        }
    }

    private Staged staged(int size) throws IOException {
        byte[] bytes = bytes(size);
        return new Staged(bytes, Files.write(dir.resolve(UUID.randomUUID().toString()), bytes),
                "images/" + UUID.randomUUID() + "/original");
    }

    /** No object under the key and no multipart upload open in the bucket. */
    private void assertNothingLeft(String key) {
        assertThat(client.listObjectsV2(b -> b.bucket(BUCKET).prefix(key)).contents()).isEmpty();
        assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
    }

    private static byte[] bytes(int size) {
        byte[] bytes = new byte[size];
        new Random().nextBytes(bytes);
        return bytes;
    }

    private static String base64(String hexSha256) {
        return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hexSha256));
    }

    private static String sha256(byte[] bytes) {
        return ObjectStore.hex(digest(bytes));
    }

    private static java.security.MessageDigest digest(byte[] bytes) {
        java.security.MessageDigest digest = ObjectStore.newDigest();
        digest.update(bytes);
        return digest;
    }
}
