package org.patientimages.gateway.upload;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.gateway.storage.DownloadLinks;
import org.patientimages.localstack.LocalS3;
import org.springframework.util.unit.DataSize;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The staging bucket against a real S3 API server. */
class S3StagingAreaIT {

    private static final String BUCKET = "patient-images-staging";
    private static final int PART = 5 * 1024 * 1024;
    private static final LocalS3 s3 = LocalS3.startTransient().createBucket(BUCKET);
    private static final S3Client client = S3Client.builder().endpointOverride(s3.endpoint()).region(Region.US_EAST_1)
            .forcePathStyle(true).credentialsProvider(StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(LocalS3.DEV_ACCESS_KEY, LocalS3.DEV_SECRET_KEY))).build();

    private final S3StagingArea staging = new S3StagingArea(
            new StagingArea.StagingProperties(StagingArea.Mode.S3, Path.of("unused"), BUCKET, DataSize.ofBytes(PART),
                    Duration.ofHours(1), Duration.ofMinutes(5), DataSize.ofGigabytes(1)),
            new DownloadLinks.StorageProperties(s3.endpoint(), "us-east-1", LocalS3.DEV_ACCESS_KEY,
                    LocalS3.DEV_SECRET_KEY, true, Duration.ofMinutes(10), "patient-images"));

    @AfterAll
    static void stop() {
        client.close();
        s3.close();
    }

    @Test
    void a_small_upload_is_one_object_with_its_bytes_size_and_sha256_and_its_head_is_checked() throws Exception {
        byte[] bytes = bytes(300_000);
        String key = UUID.randomUUID().toString();
        AtomicReference<byte[]> head = new AtomicReference<>();

        StagingArea.Staged staged = staging.write(key, new ByteArrayInputStream(bytes), 1 << 30, head::set);
        staging.commit(staged);

        assertThat(staged.sizeBytes()).isEqualTo(bytes.length);
        assertThat(staged.sha256()).isEqualTo(sha256(bytes));
        assertThat(head.get()).hasSize(Intake.SNIFF_BYTES).isEqualTo(java.util.Arrays.copyOf(bytes, Intake.SNIFF_BYTES));
        assertThat(object(key)).isEqualTo(bytes);
    }

    @Test
    void a_large_upload_goes_up_in_parts_and_leaves_no_multipart_upload_open() throws Exception {
        byte[] bytes = bytes(2 * PART + 12_345);
        String key = UUID.randomUUID().toString();

        StagingArea.Staged staged = staging.write(key, new ByteArrayInputStream(bytes), 1 << 30, head -> { });

        assertThat(staged.sha256()).isEqualTo(sha256(bytes));
        assertThat(object(key)).isEqualTo(bytes);
        assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
    }

    @Test
    void a_resumable_uploads_file_is_copied_into_the_bucket_and_stays_where_it_was(@TempDir Path elsewhere)
            throws Exception {
        byte[] bytes = bytes(PART + 777);
        Path file = Files.write(elsewhere.resolve("upload.bin"), bytes);
        String key = UUID.randomUUID().toString();

        StagingArea.Staged staged = staging.adopt(key, file, 1 << 30, head -> { });
        staging.commit(staged);

        assertThat(staged.sha256()).isEqualTo(sha256(bytes));
        assertThat(object(key)).isEqualTo(bytes);
        assertThat(Files.readAllBytes(file)).isEqualTo(bytes);
    }

    @Test
    void an_upload_past_the_limit_or_cut_off_by_the_client_leaves_nothing_behind() {
        String tooLarge = UUID.randomUUID().toString();
        assertThatThrownBy(() -> staging.write(tooLarge, new ByteArrayInputStream(bytes(3 * PART)), 2L * PART + 1, h -> { }))
                .isInstanceOf(StagingArea.TooLarge.class);
        String cutOff = UUID.randomUUID().toString();
        assertThatThrownBy(() -> staging.write(cutOff, new CutOffBody(bytes(PART + PART / 2)), 1 << 30, h -> { }))
                .isInstanceOf(IOException.class).hasMessage("connection reset");
        String refused = UUID.randomUUID().toString();
        assertThatThrownBy(() -> staging.write(refused, new ByteArrayInputStream(bytes(100)), 1 << 30, h -> {
            throw new IllegalArgumentException("not a type we take");
        })).isInstanceOf(IllegalArgumentException.class);

        for (String key : new String[] {tooLarge, cutOff, refused}) {
            assertThatThrownBy(() -> object(key)).isInstanceOf(NoSuchKeyException.class);
        }
        assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
    }

    @Test
    void the_sweeper_sees_old_objects_and_abandoned_multipart_uploads_and_removes_them() throws Exception {
        String done = UUID.randomUUID().toString();
        staging.write(done, new ByteArrayInputStream(bytes(1000)), 1 << 30, h -> { });
        String abandoned = UUID.randomUUID().toString();
        client.createMultipartUpload(b -> b.bucket(BUCKET).key(abandoned)); // a gateway that died mid-upload

        var old = staging.olderThan(Instant.now().plusSeconds(60));

        assertThat(old).extracting(StagingArea.Entry::name).contains(done, abandoned + ".part");
        assertThat(staging.olderThan(Instant.now().minusSeconds(3600))).isEmpty();
        for (StagingArea.Entry entry : old) {
            staging.delete(entry);
        }
        assertThat(staging.olderThan(Instant.now().plusSeconds(60))).isEmpty();
        assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
    }

    @Test
    void discarding_removes_the_object_and_readiness_follows_the_bucket() throws Exception {
        String key = UUID.randomUUID().toString();
        staging.write(key, new ByteArrayInputStream(bytes(1000)), 1 << 30, h -> { });

        staging.discard(key);
        staging.discard(key); // already gone: fine

        assertThatThrownBy(() -> object(key)).isInstanceOf(NoSuchKeyException.class);
        assertThat(staging.isWritable()).isTrue();
        S3StagingArea noBucket = new S3StagingArea(
                new StagingArea.StagingProperties(StagingArea.Mode.S3, Path.of("unused"), "no-such-bucket",
                        DataSize.ofBytes(PART), Duration.ofHours(1), Duration.ofMinutes(5), DataSize.ofGigabytes(1)),
                new DownloadLinks.StorageProperties(s3.endpoint(), "us-east-1", LocalS3.DEV_ACCESS_KEY,
                        LocalS3.DEV_SECRET_KEY, true, Duration.ofMinutes(10), "patient-images"));
        assertThat(noBucket.isWritable()).isFalse();
        noBucket.close();
    }

    private static byte[] object(String key) {
        return client.getObject(b -> b.bucket(BUCKET).key(key), ResponseTransformer.toBytes()).asByteArray();
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new Random().nextBytes(b);
        return b;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
