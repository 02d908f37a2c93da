package org.patientimages.worker;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.patientimages.events.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.patientimages.events.v1.JobCancelled;
import org.patientimages.events.v1.JobEvent;
import org.patientimages.events.v1.UploadAccepted;
import org.patientimages.localstack.LocalS3;
import org.patientimages.worker.upload.Cancellations;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;

import org.patientimages.localstack.testing.TestDicom;
import org.patientimages.localstack.testing.TestTopics;
import org.patientimages.localstack.testing.TestImages;
import org.patientimages.localstack.testing.TestJpegLossless;
import org.patientimages.localstack.testing.TestPdf;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Workers against a real Kafka broker and a real S3 API server. */
@SpringBootTest(properties = {
        "patient-images.worker.integrity-concurrency=2",
        "patient-images.storage.multipart-threshold=6MB",
        "patient-images.storage.part-size=5MB",
        "management.server.port=-1",
        "server.port=0"})
@EmbeddedKafka(bootstrapServersProperty = "spring.kafka.bootstrap-servers")
class UploadWorkerIT {

    static final String BUCKET = "patient-images";
    /** Shared with {@link S3StagingWorkerIT}, which runs the same scenarios: it stops with the test JVM. */
    static final LocalS3 s3 = LocalS3.startTransient().createBucket(BUCKET);
    static final Path staging = tempDirectory();

    private static Path tempDirectory() {
        try {
            return Files.createTempDirectory("staging");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("patient-images.storage.endpoint", () -> s3.endpoint().toString());
        registry.add("patient-images.staging.directory", () -> staging.toString());
    }

    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    EmbeddedKafkaBroker broker;
    @Autowired
    S3Client client;
    @Autowired
    Cancellations cancellations;
    @Autowired
    MeterRegistry registry;

    /** Every job event read so far by {@link #awaitFinal}, by job id. */
    private Map<String, List<JobEvent>> reported = Map.of();

    @Autowired
    KafkaListenerEndpointRegistry listeners;

    @Test
    void integrity_checks_and_derivations_run_on_as_many_threads_as_configured() {
        var checks = (ConcurrentMessageListenerContainer<?, ?>) listeners.getListenerContainer("integrity-checks");
        assertThat(checks.getConcurrency()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> checks.getContainers().size() == 2);
    }

    @Test
    void stores_a_staged_upload_reports_each_step_and_removes_the_staged_file() throws Exception {
        UploadAccepted upload = stage(bytes(300_000));
        send(upload);
        List<JobEvent> events = awaitFinal(upload.getJobId());
        assertThat(events).extracting(e -> e.getFactCase().name())
                .containsExactly("STARTED", "STORED", "SUCCEEDED");
        assertThat(events.get(1).getStored().getObjectKey()).isEqualTo("images/" + upload.getImageId() + "/original");
        assertThat(sha256(object(upload))).isEqualTo(upload.getSha256());
        assertThat(isStaged(upload.getStagingKey())).isFalse();
        var head = client.headObject(b -> b.bucket(BUCKET).key("images/" + upload.getImageId() + "/original"));
        assertThat(head.contentType()).isEqualTo("application/octet-stream");
        assertThat(head.contentDisposition()).isEqualTo("attachment");
        assertRecordedWithItsOrigin(upload);
    }

    /** The original names its SHA-256, patient and job: what an admin adopts it by should its row be lost. */
    private void assertRecordedWithItsOrigin(UploadAccepted upload) {
        assertThat(client.headObject(b -> b.bucket(BUCKET).key("images/" + upload.getImageId() + "/original"))
                .metadata()).containsExactlyInAnyOrderEntriesOf(Map.of("sha256", upload.getSha256(),
                "patient-id", upload.getPatientId(), "job-id", upload.getJobId()));
    }

    @Test
    void reports_the_dimensions_of_a_real_png_and_stores_its_thumbnail_before_success() throws Exception {
        UploadAccepted upload = stage(TestImages.aPngImage(40, 30), "image/png");
        send(upload);
        List<JobEvent> events = awaitFinal(upload.getJobId());
        assertThat(events).extracting(e -> e.getFactCase().name())
                .endsWith("STORED", "ATTRIBUTES_EXTRACTED", "PROGRESSED", "THUMBNAIL_RENDERED", "SUCCEEDED");
        JobEvent attributes = events.stream().filter(JobEvent::hasAttributesExtracted).findFirst().orElseThrow();
        assertThat(attributes.getAttributesExtracted().getAttributesJson()).isEqualTo("{\"width\":40,\"height\":30}");
        assertThat(thumbnail(upload, events)).satisfies(t -> assertThat(t.getWidth()).isEqualTo(40));
    }

    @Test
    void a_jpeg_baseline_dicom_gets_the_thumbnail_of_its_first_frame() throws Exception {
        byte[] jpeg = TestImages.aJpegImage(640, 480);
        BufferedImage thumbnail = thumbnailOf(TestDicom.ctSlice(480, 640).transferSyntax(TestDicom.JPEG_BASELINE)
                .us(0x00280002, 3).string(0x00280004, "CS", "YBR_FULL_422").us(0x00280100, 8).us(0x00280101, 8)
                .encapsulatedPixels(java.util.Arrays.copyOf(jpeg, jpeg.length + jpeg.length % 2)).toBytes());
        assertThat(thumbnail.getWidth()).isEqualTo(256);
        assertThat(thumbnail.getHeight()).isEqualTo(192);
    }

    @Test
    void a_jpeg_lossless_ct_slice_gets_the_thumbnail_of_its_pixels() throws Exception {
        short[] pixels = TestDicom.ctPixels(480, 640);
        byte[] jpeg = TestJpegLossless.encode(pixels, 480, 640);
        BufferedImage thumbnail = thumbnailOf(TestDicom.ctSlice(480, 640, pixels)
                .transferSyntax(TestDicom.JPEG_LOSSLESS)
                .encapsulatedPixels(java.util.Arrays.copyOf(jpeg, jpeg.length + jpeg.length % 2)).toBytes());
        assertThat(thumbnail.getWidth()).isEqualTo(256);
        assertThat(thumbnail.getHeight()).isEqualTo(192);
        // the ramp from -1000 to 1000 HU through the window 40 ± 200: black on the left, white on the right
        assertThat(thumbnail.getRGB(5, 96) & 0xff).isZero();
        assertThat(thumbnail.getRGB(250, 96) & 0xff).isEqualTo(255);
    }

    @Test
    void a_pdf_gets_its_page_count_and_the_thumbnail_of_its_first_page() throws Exception {
        UploadAccepted upload = stage(TestPdf.report().pages(2).toBytes(), "application/pdf");
        send(upload);
        List<JobEvent> events = awaitFinal(upload.getJobId());
        assertThat(events).noneMatch(JobEvent::hasStepSkipped);
        assertThat(events.stream().filter(JobEvent::hasAttributesExtracted).findFirst().orElseThrow()
                .getAttributesExtracted().getAttributesJson()).isEqualTo("{\"pdf\":{\"pages\":2,\"version\":\"1.7\"}}");
        BufferedImage thumbnail = thumbnail(upload, events);
        assertThat(thumbnail.getWidth()).isEqualTo(181);
        assertThat(thumbnail.getHeight()).isEqualTo(256);
        assertThat(thumbnail.getRGB(20, 128) & 0xffffff).isEqualTo(0xff0000);
        assertThat(registry.counter("upload.derivatives", "step", "thumbnail", "outcome", "done",
                "content_type", "application/pdf").count()).isEqualTo(1);
    }

    /** The thumbnail the worker stored for this DICOM file, which every step of its job handled. */
    private BufferedImage thumbnailOf(byte[] dicom) throws Exception {
        UploadAccepted upload = stage(dicom, "application/dicom");
        send(upload);
        List<JobEvent> events = awaitFinal(upload.getJobId());
        assertThat(events).noneMatch(JobEvent::hasStepSkipped);
        return thumbnail(upload, events);
    }

    @Test
    void a_dicom_slice_gets_its_identifying_attributes_and_a_windowed_thumbnail() throws Exception {
        UploadAccepted upload = stage(TestDicom.ctSlice(600, 500).toBytes(), "application/dicom");
        send(upload);
        List<JobEvent> events = awaitFinal(upload.getJobId());
        String json = events.stream().filter(JobEvent::hasAttributesExtracted).findFirst().orElseThrow()
                .getAttributesExtracted().getAttributesJson();
        assertThat(json).contains("\"Modality\":\"CT\"", "\"StudyInstanceUID\":\"1.2.826.0.1.3680043.2.1125.2\"",
                "\"width\":500", "\"height\":600").doesNotContain("DOE");
        BufferedImage thumbnail = thumbnail(upload, events);
        assertThat(thumbnail.getHeight()).isEqualTo(256);
        assertThat(thumbnail.getWidth()).isEqualTo(213);
    }

    @Test
    void a_lying_dicom_and_a_pixel_bomb_are_stored_without_what_cannot_be_read() throws Exception {
        UploadAccepted lying = stage(TestDicom.ctSlice(64, 64).transferSyntax(TestDicom.IMPLICIT_LITTLE)
                .lyingLength(0x00080060, 0xFFFFFFF0L).toBytes(), "application/dicom");
        UploadAccepted bomb = stage(TestImages.aPngDeclaring(100_000, 100_000), "image/png");
        send(lying);
        send(bomb);
        List<JobEvent> lyingEvents = awaitFinal(lying.getJobId());
        assertThat(lyingEvents).extracting(e -> e.getFactCase().name())
                .endsWith("STORED", "STEP_SKIPPED", "PROGRESSED", "STEP_SKIPPED", "SUCCEEDED");
        assertThat(lyingEvents.stream().filter(JobEvent::hasStepSkipped).map(e -> e.getStepSkipped().getReason()))
                .allMatch(reason -> reason.contains("(0008,0060) declares 4294967280 bytes"));
        assertThat(sha256(object(lying))).isEqualTo(lying.getSha256());

        List<JobEvent> bombEvents = awaitFinal(bomb.getJobId());
        assertThat(bombEvents).extracting(e -> e.getFactCase().name())
                .endsWith("ATTRIBUTES_EXTRACTED", "PROGRESSED", "STEP_SKIPPED", "SUCCEEDED");
        assertThat(bombEvents.stream().filter(JobEvent::hasStepSkipped).findFirst().orElseThrow().getStepSkipped()
                .getStep()).isEqualTo("THUMBNAIL");
        assertThat(client.listObjectsV2(b -> b.bucket(BUCKET).prefix("images/" + bomb.getImageId() + "/")).contents())
                .extracting(o -> o.key()).containsExactly("images/" + bomb.getImageId() + "/original");
    }

    @Test
    void a_large_file_goes_up_in_parts_with_progress_and_leaves_no_multipart_upload_behind() throws Exception {
        UploadAccepted upload = stage(bytes(13 * 1024 * 1024));
        send(upload);
        List<JobEvent> events = awaitFinal(upload.getJobId());
        assertThat(events.get(events.size() - 1).getFactCase().name()).isEqualTo("SUCCEEDED");
        assertThat(events.stream().filter(JobEvent::hasProgressed).map(e -> e.getProgressed().getPercent()))
                .hasSize(2).isSorted();
        assertThat(sha256(object(upload))).isEqualTo(upload.getSha256());
        assertRecordedWithItsOrigin(upload);
        ListMultipartUploadsResponse open = client.listMultipartUploads(b -> b.bucket(BUCKET));
        assertThat(open.uploads()).isEmpty();
    }

    @Test
    void parts_left_behind_by_an_attempt_that_died_mid_upload_are_aborted_by_the_next() throws Exception {
        UploadAccepted upload = stage(bytes(11 * 1024 * 1024));
        String key = "images/" + upload.getImageId() + "/original";
        String stale = client.createMultipartUpload(b -> b.bucket(BUCKET).key(key)).uploadId();
        client.uploadPart(b -> b.bucket(BUCKET).key(key).uploadId(stale).partNumber(1),
                software.amazon.awssdk.core.sync.RequestBody.fromBytes(bytes(5 * 1024 * 1024)));
        send(upload);
        assertThat(awaitFinal(upload.getJobId()).get(awaitFinal(upload.getJobId()).size() - 1).hasSucceeded()).isTrue();
        assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
        assertThat(sha256(object(upload))).isEqualTo(upload.getSha256());
    }

    @Test
    void a_job_cancelled_before_a_worker_comes_to_it_is_skipped_its_staged_bytes_go_and_nothing_is_stored()
            throws Exception {
        UploadAccepted upload = stage(bytes(300_000));
        kafka.send(Topics.JOB_CANCELLATIONS, upload.getJobId(), JobCancelled.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setJobId(upload.getJobId()).setImageId(upload.getImageId())
                .build().toByteArray()).join();
        await().atMost(Duration.ofSeconds(30)).until(() -> cancellations.isCancelled(upload.getJobId()));
        send(upload);
        // a job done would have had its object stored and its facts reported before its staged bytes went
        await().atMost(Duration.ofSeconds(30)).until(() -> !isStaged(upload.getStagingKey()));
        assertThat(client.listObjectsV2(b -> b.bucket(BUCKET).prefix("images/" + upload.getImageId() + "/"))
                .keyCount()).isZero();
        assertThat(factsToEnd(upload.getJobId())).isEmpty();
        // the worker read the cancellation outside any consumer group: none is left behind when it stops
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()))) {
            assertThat(admin.listGroups().all().get()).extracting(GroupListing::groupId)
                    .contains("upload-workers").noneMatch(group -> group.contains("cancellations"));
        }
    }

    @Test
    void a_deleted_image_loses_every_object_under_its_prefix_and_nothing_else() throws Exception {
        UploadAccepted kept = stage(bytes(1000));
        UploadAccepted gone = stage(bytes(1000));
        send(kept);
        send(gone);
        awaitFinal(kept.getJobId());
        awaitFinal(gone.getJobId());
        String prefix = "images/" + gone.getImageId() + "/";
        client.putObject(b -> b.bucket(BUCKET).key(prefix + "thumbnail.png"),
                software.amazon.awssdk.core.sync.RequestBody.fromBytes(bytes(10)));
        var event = org.patientimages.events.v1.ImageDeleted.newBuilder().setEventId(UUID.randomUUID().toString())
                .setImageId(gone.getImageId()).setBucket(BUCKET).setObjectPrefix(prefix).build();
        kafka.send(Topics.IMAGE_DELETIONS, gone.getImageId(), event.toByteArray()).join();
        await().atMost(Duration.ofSeconds(30)).until(() ->
                client.listObjectsV2(b -> b.bucket(BUCKET).prefix(prefix)).contents().isEmpty());
        assertThat(sha256(object(kept))).isEqualTo(kept.getSha256());
        kafka.send(Topics.IMAGE_DELETIONS, gone.getImageId(), event.toByteArray()).join(); // again: harmless
    }

    @Test
    void a_redelivered_event_finds_the_stored_object_and_does_not_store_it_again() throws Exception {
        UploadAccepted upload = stage(bytes(100_000));
        send(upload);
        awaitFinal(upload.getJobId());
        var first = client.headObject(b -> b.bucket(BUCKET).key("images/" + upload.getImageId() + "/original"));

        send(upload);
        List<JobEvent> all = awaitFinal(upload.getJobId(), 2);
        List<JobEvent> again = all.subList(all.indexOf(all.stream().filter(JobEvent::hasSucceeded).findFirst().get()) + 1,
                all.size());
        assertThat(again).extracting(e -> e.getFactCase().name()).containsExactly("STARTED", "STORED", "SUCCEEDED");
        var second = client.headObject(b -> b.bucket(BUCKET).key("images/" + upload.getImageId() + "/original"));
        assertThat(second.lastModified()).isEqualTo(first.lastModified());
        assertThat(second.eTag()).isEqualTo(first.eTag());
    }

    @Test
    void after_a_crash_before_success_a_small_file_is_sent_again_and_a_large_stored_one_is_not() throws Exception {
        // what an attempt that died after storing leaves: the object, and the staged file still in place
        UploadAccepted small = stage(bytes(50_000));
        UploadAccepted large = stage(bytes(7 * 1024 * 1024)); // above the 6 MB multipart threshold
        for (UploadAccepted upload : List.of(small, large)) {
            byte[] content = staged(upload.getStagingKey());
            client.putObject(b -> b.bucket(BUCKET).key("images/" + upload.getImageId() + "/original")
                    .metadata(Map.of("sha256", upload.getSha256())), RequestBody.fromBytes(content));
            send(upload);
        }

        for (UploadAccepted upload : List.of(small, large)) {
            assertThat(awaitFinal(upload.getJobId())).extracting(e -> e.getFactCase().name())
                    .containsExactly("STARTED", "STORED", "SUCCEEDED");
            assertThat(sha256(object(upload))).isEqualTo(upload.getSha256());
            assertThat(isStaged(upload.getStagingKey())).isFalse();
        }
        // sent again by the worker: its own PUT sets the disposition; not sent again: the object is the one put above
        assertThat(client.headObject(b -> b.bucket(BUCKET).key("images/" + small.getImageId() + "/original"))
                .contentDisposition()).isEqualTo("attachment");
        assertThat(client.headObject(b -> b.bucket(BUCKET).key("images/" + large.getImageId() + "/original"))
                .contentDisposition()).isNull();
    }

    @Test
    void a_missing_staged_file_fails_the_job_at_once_without_retries_and_dead_letters_it() {
        UploadAccepted upload = UploadAccepted.newBuilder().setEventId(UUID.randomUUID().toString())
                .setJobId(UUID.randomUUID().toString()).setImageId(UUID.randomUUID().toString())
                .setPatientId(UUID.randomUUID().toString()).setStagingKey(UUID.randomUUID().toString())
                .setSizeBytes(10).setSha256("00".repeat(32)).setContentType("image/png").build();
        send(upload);
        List<JobEvent> events = awaitFinal(upload.getJobId());
        assertThat(events).extracting(e -> e.getFactCase().name()).containsExactly("STARTED", "FAILED");
        assertThat(events.get(1).getFailed().getCode()).isEqualTo("STAGED_FILE_MISSING");
        assertThat(events.get(1).getFailed().getRetryable()).isFalse();
        awaitRecordWithKey(Topics.UPLOADS + Topics.DEAD_LETTER_SUFFIX, upload.getJobId());
    }

    @Test
    void a_staged_file_that_no_longer_matches_its_checksum_fails_and_stores_nothing() throws Exception {
        // the checksum is computed while the bytes are sent: in one PUT, and across the parts of a multipart upload;
        // for an image, whose bytes are also read for attributes, in that read when it is the one that fetches them
        record Case(int size, String contentType) { }
        for (Case c : List.of(new Case(50_000, "application/octet-stream"), new Case(11 * 1024 * 1024,
                "application/octet-stream"), new Case(50_000, "image/png"))) {
            UploadAccepted upload = stage(bytes(c.size()), c.contentType());
            putStaged(upload.getStagingKey(), bytes(c.size())); // same size, other bytes
            send(upload);
            List<JobEvent> events = awaitFinal(upload.getJobId());
            assertThat(events.get(events.size() - 1).getFailed().getCode()).isEqualTo("CHECKSUM_MISMATCH");
            assertThat(client.listObjectsV2(b -> b.bucket(BUCKET).prefix("images/" + upload.getImageId())).contents())
                    .isEmpty();
            assertThat(client.listMultipartUploads(b -> b.bucket(BUCKET)).uploads()).isEmpty();
            assertThat(isStaged(upload.getStagingKey())).isFalse();
        }
    }

    @Test
    void an_undecodable_record_is_dead_lettered_at_once_and_the_partition_keeps_flowing() throws Exception {
        String key = UUID.randomUUID().toString();
        kafka.send(Topics.UPLOADS, key, new byte[] {(byte) 0xff, 0x7f}).get();
        UploadAccepted next = stage(bytes(1000));
        send(next);
        assertThat(awaitFinal(next.getJobId()).get(1).getFactCase().name()).isEqualTo("STORED");
        assertThat(reported).doesNotContainKey(key);
        awaitRecordWithKey(Topics.UPLOADS + Topics.DEAD_LETTER_SUFFIX, key);
    }

    // --- fixtures

    private static byte[] bytes(int size) {
        byte[] b = new byte[size];
        new Random().nextBytes(b);
        return b;
    }

    private UploadAccepted stage(byte[] content) throws Exception {
        return stage(content, "application/octet-stream");
    }

    private UploadAccepted stage(byte[] content, String contentType) throws Exception {
        String jobId = UUID.randomUUID().toString();
        putStaged(jobId, content);
        return UploadAccepted.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId)
                .setImageId(UUID.randomUUID().toString()).setPatientId(UUID.randomUUID().toString())
                .setStagingKey(jobId).setSizeBytes(content.length).setSha256(sha256(content))
                .setContentType(contentType).setAcceptedAtEpochMs(System.currentTimeMillis()).build();
    }

    /** What the gateway does: the bytes under the key in the staging area (a directory here). */
    void putStaged(String key, byte[] content) throws IOException {
        Files.write(staging.resolve(key), content);
    }

    byte[] staged(String key) throws IOException {
        return Files.readAllBytes(staging.resolve(key));
    }

    boolean isStaged(String key) {
        return Files.exists(staging.resolve(key));
    }

    private void send(UploadAccepted upload) {
        kafka.send(Topics.UPLOADS, upload.getJobId(), upload.toByteArray()).join();
    }

    private byte[] object(UploadAccepted upload) {
        return client.getObject(b -> b.bucket(BUCKET).key("images/" + upload.getImageId() + "/original"),
                ResponseTransformer.toBytes()).asByteArray();
    }

    /** The thumbnail the job reported, read back from the bucket: a PNG of the size reported. */
    private BufferedImage thumbnail(UploadAccepted upload, List<JobEvent> events) throws IOException {
        var rendered = events.stream().filter(JobEvent::hasThumbnailRendered).findFirst().orElseThrow().getThumbnailRendered();
        assertThat(rendered.getObjectKey()).isEqualTo("images/" + upload.getImageId() + "/thumbnail.png");
        var bytes = client.getObject(b -> b.bucket(BUCKET).key(rendered.getObjectKey()), ResponseTransformer.toBytes());
        assertThat(bytes.response().contentType()).isEqualTo("image/png");
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(bytes.asByteArray()));
        assertThat(png.getWidth()).isEqualTo(rendered.getWidth()).isLessThanOrEqualTo(256);
        assertThat(png.getHeight()).isEqualTo(rendered.getHeight()).isLessThanOrEqualTo(256);
        return png;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private List<JobEvent> awaitFinal(String jobId) {
        return awaitFinal(jobId, 1);
    }

    /** All events of the job, in order, once it has reported {@code ends} SUCCEEDED or FAILED facts. */
    private List<JobEvent> awaitFinal(String jobId, int ends) {
        Map<String, List<JobEvent>> byJob = new ConcurrentHashMap<>();
        reported = byJob;
        Map<String, Object> props = KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false);
        props.put("auto.offset.reset", "earliest");
        try (Consumer<String, byte[]> consumer = new DefaultKafkaConsumerFactory<>(props, new StringDeserializer(),
                new ByteArrayDeserializer()).createConsumer()) {
            consumer.subscribe(List.of(Topics.JOB_EVENTS));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    JobEvent e = JobEvent.parseFrom(r.value());
                    byJob.computeIfAbsent(e.getJobId(), k -> new ArrayList<>()).add(e);
                }
                return byJob.getOrDefault(jobId, List.of()).stream()
                        .filter(e -> e.hasSucceeded() || e.hasFailed()).count() >= ends;
            });
            return List.copyOf(byJob.get(jobId));
        }
    }

    /** The facts reported of a job, read from the job-events topic up to its end as of now. */
    private List<JobEvent> factsToEnd(String jobId) throws Exception {
        Map<String, Object> props = KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false);
        List<JobEvent> facts = new ArrayList<>();
        for (var record : TestTopics.recordsToEnd(props, Topics.JOB_EVENTS)) {
            JobEvent e = JobEvent.parseFrom(record.value());
            if (e.getJobId().equals(jobId)) {
                facts.add(e);
            }
        }
        return facts;
    }

    private void awaitRecordWithKey(String topic, String key) {
        Map<String, Object> props = KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false);
        props.put("auto.offset.reset", "earliest");
        try (Consumer<String, byte[]> consumer = new DefaultKafkaConsumerFactory<>(props, new StringDeserializer(),
                new ByteArrayDeserializer()).createConsumer()) {
            consumer.subscribe(List.of(topic));
            List<String> keys = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> keys.add(r.key()));
                return keys.contains(key);
            });
        }
    }
}
