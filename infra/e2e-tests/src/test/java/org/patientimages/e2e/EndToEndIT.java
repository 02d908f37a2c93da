package org.patientimages.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import io.tus.java.client.TusClient;
import io.tus.java.client.TusUpload;
import io.tus.java.client.TusUploader;
import org.patientimages.localstack.testing.TestDicom;
import org.patientimages.localstack.testing.TestHttp;
import org.patientimages.localstack.testing.TestHttp.Part;
import org.patientimages.localstack.testing.WebhookReceiver;
import org.patientimages.localstack.testing.TestImages;
import org.patientimages.localstack.testing.TestPdf;
import org.patientimages.localstack.testing.TestWebp;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.S3Object;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.patientimages.e2e.Fixtures.randomBytes;
import static org.patientimages.e2e.Fixtures.sha256;
import static org.awaitility.Awaitility.await;

/**
 * The three services as separate processes against a real Kafka broker, a real S3 API server and a real
 * PostgreSQL, driven through the public API as a client would.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndIT {

    static final long MAX_FILE = 8L * 1024 * 1024;
    static final String BUCKET = TestStack.BUCKET;

    static TestStack stack;
    static TestHttp api;
    static Path staging;
    static ServiceProcess gateway;
    static String patientId;

    @BeforeAll
    static void startStack() {
        stack = TestStack.start(MAX_FILE);
        api = stack.api;
        staging = stack.staging;
        gateway = stack.gateway;
        patientId = api.postJson("/v1/patients", Map.of("name", "Jane Smith", "username", "janesmith"))
                .json().path("patientId").asString();
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(1)
    void the_gateway_reports_itself_healthy_on_its_management_port() {
        var health = new TestHttp(gateway.managementUrl()).get("/actuator/health");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.json().path("status").asString()).isEqualTo("UP");
    }

    @Test
    @Order(2)
    void an_upload_waits_for_a_worker_then_succeeds_and_downloads_identical_bytes() throws Exception {
        byte[] content = randomBytes(5 * 1024 * 1024);
        Path file = Files.write(staging.getParent().resolve("e2e-" + UUID.randomUUID() + ".bin"), content);
        var accepted = api.postMultipart("/v1/patients/" + patientId + "/images", List.of(
                Part.file(file, "../../etc/knee scan.png", "image/png"),
                Part.json("metadata", Map.of("name", "Knee", "description", "left knee", "tags", List.of("Knee", "mri"),
                        "sha256", sha256(content)))));
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        JsonNode body = accepted.json();
        String jobId = body.path("jobId").asString();
        String imageId = body.path("imageId").asString();
        assertThat(body.path("status").asString()).isEqualTo("QUEUED");
        assertThat(accepted.header("Location")).isEqualTo("/v1/jobs/" + jobId);
        assertThat(body.path("links").path("image").asString()).isEqualTo("/v1/images/" + imageId);

        // no worker runs yet: the job waits, and the content is not there to download
        assertThat(api.get("/v1/jobs/" + jobId).json().path("status").asString()).isEqualTo("QUEUED");
        var early = api.get("/v1/images/" + imageId + "/content");
        assertThat(early.status()).isEqualTo(409);
        assertThat(early.contentType()).isEqualTo("application/problem+json");
        assertThat(early.json().path("code").asString()).isEqualTo("IMAGE_NOT_AVAILABLE");

        stack.startWorker();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() ->
                api.get("/v1/jobs/" + jobId).json().path("status").asString().equals("SUCCEEDED"));

        JsonNode job = api.get("/v1/jobs/" + jobId).json();
        assertThat(job.path("progress").asInt()).isEqualTo(100);
        assertThat(job.path("patientId").asString()).isEqualTo(patientId);
        assertThat(job.path("error").isNull()).isTrue();
        List<String> events = StreamSupport.stream(api.get("/v1/jobs/" + jobId + "/events").json().path("items")
                .spliterator(), false).map(e -> e.path("type").asString()).toList();
        assertThat(events).containsExactly("ACCEPTED", "STARTED", "STORED", "SUCCEEDED"); // one request: no PROGRESS

        JsonNode image = api.get("/v1/images/" + imageId).json();
        assertThat(image.path("status").asString()).isEqualTo("AVAILABLE");
        assertThat(image.path("sha256").asString()).isEqualTo(sha256(content));
        assertThat(image.path("sizeBytes").asLong()).isEqualTo(content.length);
        assertThat(image.path("originalFilename").asString()).isEqualTo("knee scan.png");
        assertThat(image.path("tags").toString()).isEqualTo("[\"knee\",\"mri\"]");
        assertThat(image.has("objectKey")).isFalse();

        var redirect = api.get("/v1/images/" + imageId + "/content");
        assertThat(redirect.status()).isEqualTo(302);
        var download = api.get(redirect.header("Location"));
        assertThat(download.status()).isEqualTo(200);
        assertThat(download.header("Content-Disposition")).startsWith("attachment");
        assertThat(sha256(download.bytes())).isEqualTo(sha256(content));

        List<S3Object> objects = stack.s3Client().listObjectsV2(b -> b.bucket(BUCKET)).contents();
        assertThat(objects).extracting(S3Object::key).contains("images/" + imageId + "/original");
        assertThat(staging.resolve(jobId)).doesNotExist();

        JsonNode found = api.get("/v1/images?patientId=" + patientId + "&tag=KNEE&tag=mri&q=knee&contentType="
                + "application/octet-stream&sort=name&order=asc").json();
        assertThat(found.path("items")).hasSize(1);
        assertThat(found.path("items").get(0).path("imageId").asString()).isEqualTo(imageId);
        assertThat(found.path("items").get(0).path("downloadUrl").asString()).startsWith(stack.s3Endpoint());
        assertThat(api.get("/v1/images?q=" + java.net.URLEncoder.encode("a&b+c%", StandardCharsets.UTF_8)).status())
                .isEqualTo(200);
        expectProblem(api.get("/v1/images?colour=red"), 400, "INVALID_PARAMETER");

        JsonNode listed = api.get("/v1/patients/" + patientId + "/images").json();
        assertThat(listed.path("items").get(0).path("imageId").asString()).isEqualTo(imageId);
        assertThat(listed.path("items").get(0).path("downloadUrl").asString()).startsWith(stack.s3Endpoint());
        Files.delete(file);
    }

    @Test
    @Order(3)
    void a_tagged_png_jpeg_and_dicom_are_found_by_every_filter_and_get_thumbnails_as_does_a_pdf() throws Exception {
        String patient = api.postJson("/v1/patients", Map.of("name", "Ann Lee", "username", "annlee"))
                .json().path("patientId").asString();
        String images = "/v1/patients/" + patient + "/images";
        byte[] pngBytes = TestImages.aPngImage(640, 480);
        byte[] dicomBytes = TestDicom.ctSlice(512, 512).toBytes();
        String png = upload(images, "hand.png", pngBytes, "Hand", List.of("hand", "xray"));
        String jpeg = upload(images, "knee.jpg", TestImages.aJpegImage(300, 900), "Knee photo", List.of("knee", "photo"));
        String dicom = upload(images, "chest.dcm", dicomBytes, "Chest CT", List.of("chest", "xray"));
        String between = api.get("/v1/images/" + jpeg).json().path("uploadedAt").asString();

        String p = "/v1/images?patientId=" + patient;
        assertThat(ids(p)).containsExactly(dicom, jpeg, png);
        assertThat(ids(p + "&tag=xray&tag=chest")).containsExactly(dicom);
        assertThat(ids(p + "&tag=hand&tag=knee&match=any")).containsExactly(jpeg, png);
        assertThat(ids(p + "&modality=CT")).containsExactly(dicom);
        assertThat(ids(p + "&studyInstanceUid=1.2.826.0.1.3680043.2.1125.2")).containsExactly(dicom);
        assertThat(ids(p + "&seriesInstanceUid=1.2.826.0.1.3680043.2.1125.3")).containsExactly(dicom);
        assertThat(ids(p + "&sopInstanceUid=1.2.826.0.1.3680043.2.1125.1.1")).containsExactly(dicom);
        // taken on the slice's StudyDate; the PNG and the JPEG without EXIF tell no date
        assertThat(ids(p + "&takenFrom=2026-11-27&takenTo=2026-11-27")).containsExactly(dicom);
        assertThat(ids(p + "&takenTo=2026-11-26")).isEmpty();
        assertThat(api.get("/v1/images/" + dicom).json().path("takenOn").asString()).isEqualTo("2026-11-27");
        assertThat(ids(p + "&contentType=image/jpeg")).containsExactly(jpeg);
        assertThat(ids(p + "&from=" + between)).containsExactly(dicom, jpeg);
        assertThat(ids(p + "&to=" + between)).containsExactly(png);
        assertThat(ids(p + "&q=CHEST")).containsExactly(dicom);
        assertThat(ids(images + "?sort=name&order=asc")).containsExactly(dicom, png, jpeg);
        List<String> paged = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = api.get(p + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.path("items").forEach(i -> paged.add(i.path("imageId").asString()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        assertThat(paged).containsExactly(dicom, jpeg, png);

        JsonNode ct = api.get("/v1/images/" + dicom).json();
        assertThat(ct.path("attributes").path("dicom").path("Modality").asString()).isEqualTo("CT");
        assertThat(ct.path("attributes").path("dicom").path("StudyInstanceUID").asString())
                .isEqualTo("1.2.826.0.1.3680043.2.1125.2");
        assertThat(ct.toString()).doesNotContain("DOE^JANE").doesNotContain("thumbnailKey").doesNotContain("bucket");
        // the patient's studies: the CT slice's, of one series; the photos are no study
        JsonNode studies = api.get("/v1/patients/" + patient + "/studies").json();
        assertThat(studies.path("items")).hasSize(1);
        assertThat(studies.path("items").get(0).path("studyInstanceUid").asString()).isEqualTo("1.2.826.0.1.3680043.2.1125.2");
        assertThat(studies.path("items").get(0).path("modalities").toString()).isEqualTo("[\"CT\"]");
        assertThat(studies.path("items").get(0).path("series").get(0).path("imageCount").asLong()).isEqualTo(1);
        assertThat(api.get("/v1/images/" + png).json().path("attributes").path("width").asInt()).isEqualTo(640);
        for (String id : List.of(png, jpeg, dicom)) {
            var redirect = api.get("/v1/images/" + id + "/thumbnail");
            assertThat(redirect.status()).isEqualTo(302);
            var thumbnail = api.get(redirect.header("Location"));
            assertThat(thumbnail.contentType()).isEqualTo("image/png");
            var picture = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(thumbnail.bytes()));
            assertThat(Math.max(picture.getWidth(), picture.getHeight())).isEqualTo(256);
        }
        assertThat(api.get(p + "&modality=CT").json().path("items").get(0).path("thumbnailUrl").asString())
                .startsWith(stack.s3Endpoint());

        // the x-rays as one ZIP: the CT slice under its study and series, the photo by id and name, the sums last
        var archive = api.get(images + "/archive?tag=xray&order=asc");
        assertThat(archive.status()).as(archive.toString()).isEqualTo(200);
        assertThat(archive.contentType()).isEqualTo("application/zip");
        assertThat(archive.header("Content-Disposition")).contains("patient-" + patient + "-images.zip");
        Map<String, byte[]> entries = unzip(archive.bytes());
        String ctEntry = "1.2.826.0.1.3680043.2.1125.2/1.2.826.0.1.3680043.2.1125.3/" + dicom + ".dcm";
        assertThat(entries.keySet()).containsExactly(png + "-hand.png", ctEntry, "SHA256SUMS");
        assertThat(entries.get(png + "-hand.png")).isEqualTo(pngBytes);
        assertThat(entries.get(ctEntry)).isEqualTo(dicomBytes);
        assertThat(new String(entries.get("SHA256SUMS"), StandardCharsets.UTF_8)).isEqualTo(sha256(pngBytes) + "  "
                + png + "-hand.png\n" + sha256(dicomBytes) + "  " + ctEntry + "\n");
        expectProblem(api.get(images + "/archive?limit=2"), 400, "INVALID_PARAMETER");
        expectProblem(api.get("/v1/patients/" + UUID.randomUUID() + "/images/archive"), 404, "PATIENT_NOT_FOUND");

        // tag changes show in search at once; a blob has no thumbnail; the same bytes again are flagged
        api.send("POST", "/v1/images/" + png + "/tags", Map.of("tags", List.of("chest")));
        assertThat(ids(p + "&tag=xray&tag=chest")).containsExactly(dicom, png);
        // a PDF: sniffed as one, its page count read, its first page the thumbnail
        String report = upload(images, "report.pdf", TestPdf.report().pages(2).toBytes(), "Discharge report", List.of());
        JsonNode pdf = api.get("/v1/images/" + report).json();
        assertThat(pdf.path("contentType").asString()).isEqualTo("application/pdf");
        assertThat(pdf.path("attributes").path("pdf").path("pages").asInt()).isEqualTo(2);
        assertThat(pdf.path("hasThumbnail").asBoolean()).isTrue();
        // a WebP photo, accepted by default: its size read, and a thumbnail
        String webp = upload(images, "wound.webp", TestWebp.aSolidWebp(600, 300, 0x3366cc), "Wound photo", List.of());
        JsonNode photo = api.get("/v1/images/" + webp).json();
        assertThat(photo.path("contentType").asString()).isEqualTo("image/webp");
        assertThat(photo.path("attributes").path("width").asInt()).isEqualTo(600);
        assertThat(photo.path("hasThumbnail").asBoolean()).isTrue();
        // a phone's HEIC photo, accepted by default: its size read, no thumbnail (nothing in Java decodes it)
        byte[] heicBytes;
        try (var in = EndToEndIT.class.getResourceAsStream("/images/halves.heic")) {
            heicBytes = in.readAllBytes();
        }
        String heic = upload(images, "wound.heic", heicBytes, "Wound photo, phone", List.of());
        JsonNode phone = api.get("/v1/images/" + heic).json();
        assertThat(phone.path("contentType").asString()).isEqualTo("image/heic");
        assertThat(phone.path("attributes").path("width").asInt()).isEqualTo(96);
        assertThat(phone.path("hasThumbnail").asBoolean()).isFalse();
        String blob = upload(images, "notes.bin", randomBytes(1000), "Notes", List.of());
        expectProblem(api.get("/v1/images/" + blob + "/thumbnail"), 404, "THUMBNAIL_UNAVAILABLE");
        var again = api.postMultipart(images, List.of(Part.bytes("file", "again.png", "image/png",
                TestImages.aPngImage(640, 480))));
        assertThat(again.json().path("duplicateOf").asString()).isEqualTo(png);
        awaitSucceeded(again.json().path("jobId").asString());
        assertThat(api.get("/v1/images/" + again.json().path("imageId").asString()).json().path("duplicateOf").asString())
                .isEqualTo(png);
    }

    /** Uploads and waits for the job to succeed; the image id. */
    private static String upload(String path, String filename, byte[] bytes, String name, List<String> tags) {
        var accepted = api.postMultipart(path, List.of(Part.bytes("file", filename, "application/octet-stream", bytes),
                Part.json("metadata", Map.of("name", name, "tags", tags))));
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        awaitSucceeded(accepted.json().path("jobId").asString());
        return accepted.json().path("imageId").asString();
    }

    private static void awaitSucceeded(String jobId) {
        await().atMost(Duration.ofSeconds(60)).until(() ->
                api.get("/v1/jobs/" + jobId).json().path("status").asString().equals("SUCCEEDED"));
    }

    private static List<String> ids(String path) {
        var answer = api.get(path);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        answer.json().path("items").forEach(i -> ids.add(i.path("imageId").asString()));
        return ids;
    }

    @Test
    @Order(4)
    void a_deleted_image_leaves_reads_and_searches_can_be_restored_and_once_purged_leaves_the_bucket() throws Exception {
        byte[] content = randomBytes(20_000);
        var accepted = api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "del.bin", "application/octet-stream", content),
                        Part.json("metadata", Map.of("tags", List.of("to-delete")))));
        String jobId = accepted.json().path("jobId").asString();
        String imageId = accepted.json().path("imageId").asString();
        awaitSucceeded(jobId);
        var retagged = api.send("PUT", "/v1/images/" + imageId + "/tags", Map.of("tags", List.of("Kept", "x-ray")));
        assertThat(retagged.json().path("tags").toString()).isEqualTo("[\"kept\",\"x-ray\"]");
        assertThat(retagged.json().has("objectKey")).isFalse();
        assertThat(api.send("PATCH", "/v1/images/" + imageId, Map.of("description", "to go")).json()
                .path("description").asString()).isEqualTo("to go");
        // uploaded for the wrong patient: moved to the right one, with its job
        String right = api.postJson("/v1/patients", Map.of("name", "Right Patient", "username", "right-one"))
                .json().path("patientId").asString();
        var moved = api.postJson("/v1/images/" + imageId + "/move", Map.of("patientId", right));
        assertThat(moved.status()).as(moved.toString()).isEqualTo(200);
        assertThat(moved.json().path("patientId").asString()).isEqualTo(right);
        assertThat(moved.json().has("objectKey")).isFalse();
        assertThat(api.get("/v1/jobs/" + jobId).json().path("patientId").asString()).isEqualTo(right);
        assertThat(ids("/v1/patients/" + right + "/images")).containsExactly(imageId);

        assertThat(api.send("DELETE", "/v1/images/" + imageId, null).status()).isEqualTo(204);
        expectProblem(api.get("/v1/images/" + imageId), 404, "IMAGE_NOT_FOUND");
        assertThat(api.get("/v1/images?tag=kept").json().path("items")).isEmpty();
        // kept for the recovery window: an admin finds it among the deleted images and restores it as it was
        var deleted = api.get("/v1/images?status=DELETED&patientId=" + right).json().path("items");
        assertThat(deleted).hasSize(1);
        assertThat(deleted.get(0).path("imageId").asString()).isEqualTo(imageId);
        assertThat(deleted.get(0).path("deletion").path("restorableUntil").isString()).isTrue();
        assertThat(deleted.get(0).path("downloadUrl").isNull()).isTrue();
        var restored = api.postJson("/v1/images/" + imageId + "/restore", Map.of());
        assertThat(restored.status()).as(restored.toString()).isEqualTo(200);
        assertThat(restored.json().path("status").asString()).isEqualTo("AVAILABLE");
        assertThat(restored.json().path("tags").toString()).isEqualTo("[\"kept\",\"x-ray\"]");
        assertThat(restored.json().has("objectKey")).isFalse();
        assertThat(api.get(api.get("/v1/images/" + imageId + "/content").header("Location")).bytes()).isEqualTo(content);
        // purged: gone at once, objects and all, past restoring
        assertThat(api.send("DELETE", "/v1/images/" + imageId + "?purge=true", null).status()).isEqualTo(204);
        expectProblem(api.get("/v1/images/" + imageId), 404, "IMAGE_NOT_FOUND");
        await().atMost(Duration.ofSeconds(30)).until(() -> stack.s3Client()
                .listObjectsV2(b -> b.bucket(BUCKET).prefix("images/" + imageId + "/")).contents().isEmpty());
        expectProblem(api.postJson("/v1/images/" + imageId + "/restore", Map.of()), 409, "IMAGE_NOT_RESTORABLE");
        expectProblem(api.send("DELETE", "/v1/patients/" + patientId, null), 409, "PATIENT_HAS_IMAGES");
    }

    @Test
    @Order(5)
    void a_retry_with_the_same_idempotency_key_returns_the_first_job() {
        byte[] content = randomBytes(1000);
        var parts = List.of(Part.bytes("file", "a.bin", "application/octet-stream", content));
        int imagesBefore = api.get("/v1/patients/" + patientId + "/images").json().path("items").size();
        var first = api.postMultipart("/v1/patients/" + patientId + "/images", parts, "Idempotency-Key", "retry-1");
        var second = api.postMultipart("/v1/patients/" + patientId + "/images", parts, "Idempotency-Key", "retry-1");
        assertThat(first.status()).isEqualTo(202);
        assertThat(second.status()).isEqualTo(202);
        assertThat(second.json()).isEqualTo(first.json());
        assertThat(second.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(api.get("/v1/patients/" + patientId + "/images").json().path("items").size())
                .isEqualTo(imagesBefore + 1);
    }

    @Test
    @Order(6)
    void contract_errors_are_problem_documents() {
        expectProblem(api.get("/v1/patients/" + UUID.randomUUID()), 404, "PATIENT_NOT_FOUND");
        expectProblem(api.get("/v1/jobs/" + UUID.randomUUID()), 404, "JOB_NOT_FOUND");
        expectProblem(api.get("/v1/images/" + UUID.randomUUID()), 404, "IMAGE_NOT_FOUND");
        expectProblem(api.get("/v1/images/" + UUID.randomUUID() + "/content"), 404, "IMAGE_NOT_FOUND");
        expectProblem(api.get("/v1/patients?limit=0"), 400, "INVALID_LIMIT");
        expectProblem(api.postMultipart("/v1/patients/" + UUID.randomUUID() + "/images",
                List.of(Part.bytes("file", "a.png", "image/png", new byte[] {1}))), 404, "PATIENT_NOT_FOUND");
        expectProblem(api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.json("metadata", Map.of("name", "x")))), 400, "FILE_MISSING");
        expectProblem(api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "empty.png", "image/png", new byte[0]))), 400, "EMPTY_FILE");
        expectProblem(api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "a.png", "image/png", new byte[] {1}), Part.json("metadata", "{oops"))),
                400, "INVALID_METADATA");
        expectProblem(api.postJson("/v1/patients", Map.of("name", "Jane", "username", "janesmith")), 409,
                "USERNAME_TAKEN");
        expectProblem(api.postMultipart("/v1/patients/" + patientId + "/images", List.of(Part.bytes("file", "x.png",
                "image/png", "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8)))),
                415, "UNSUPPORTED_MEDIA_TYPE");
        assertThat(stagedFiles()).allMatch(name -> !name.endsWith(".part"));
    }

    @Test
    @Order(7)
    void bytes_that_do_not_match_the_declared_checksum_end_the_job_failed_and_nothing_stays() {
        var answer = api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "a.bin", "application/octet-stream", randomBytes(5000)),
                        Part.json("metadata", Map.of("sha256", "0".repeat(64)))));
        assertThat(answer.status()).isEqualTo(202);
        assertThat(answer.json().path("status").asString()).isEqualTo("FAILED");
        String jobId = answer.json().path("jobId").asString();
        JsonNode job = api.get("/v1/jobs/" + jobId).json();
        assertThat(job.path("status").asString()).isEqualTo("FAILED");
        assertThat(job.path("error").path("code").asString()).isEqualTo("CHECKSUM_MISMATCH");
        assertThat(job.path("error").path("retryable").asBoolean(true)).isFalse();
        String imageId = answer.json().path("imageId").asString();
        assertThat(api.get("/v1/images/" + imageId).json().path("status").asString()).isEqualTo("FAILED");
        expectProblem(api.get("/v1/images/" + imageId + "/content"), 409, "IMAGE_NOT_AVAILABLE");
        assertThat(stagedFiles()).doesNotContain(jobId, jobId + ".part");
        assertThat(stack.s3Client().listObjectsV2(b -> b.bucket(BUCKET).prefix("images/" + imageId)).contents()).isEmpty();
    }

    @Test
    @Order(8)
    void an_oversized_upload_is_refused_before_its_body_is_read() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", gateway.port)) {
            socket.setSoTimeout(15_000);
            OutputStream out = socket.getOutputStream();
            String boundary = "xyz";
            out.write(("POST /v1/patients/" + patientId + "/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + stack.adminToken + "\r\n"
                    + "Content-Type: multipart/form-data; boundary=" + boundary + "\r\n"
                    + "Content-Length: " + (100L * 1024 * 1024 * 1024) + "\r\n\r\n"
                    + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[4096]);
            out.flush();
            // only 4 KiB of a declared 100 GiB were sent; the answer comes anyway
            String head = new String(readHead(socket.getInputStream()), StandardCharsets.US_ASCII);
            assertThat(head).startsWith("HTTP/1.1 413");
            assertThat(head.toLowerCase()).contains("content-type: application/problem+json");
        }
    }

    @Test
    @Order(9)
    void a_body_that_grows_past_the_limit_while_streaming_is_cut_off_and_nothing_stays_staged() throws Exception {
        String boundary = "b" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        InputStream body = new java.io.SequenceInputStream(java.util.Collections.enumeration(List.of(
                new ByteArrayInputStream(head), new ByteArrayInputStream(randomBytes((int) MAX_FILE + 512 * 1024)),
                new ByteArrayInputStream(tail))));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        // no Content-Length: the body is chunked, so only counting while streaming can catch it
        HttpResponse<String> answer = client.send(HttpRequest.newBuilder(
                        URI.create(gateway.url() + "/v1/patients/" + patientId + "/images"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Authorization", "Bearer " + stack.adminToken)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(413);
        assertThat(answer.body()).contains("FILE_TOO_LARGE");
        assertThat(stagedFiles()).allMatch(name -> !name.endsWith(".part"));
    }

    @Test
    @Order(10)
    void a_body_shorter_than_its_content_length_times_out_with_408_and_leaves_nothing_staged() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", gateway.port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/patients/" + patientId + "/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + stack.adminToken + "\r\n"
                    + "Content-Type: multipart/form-data; boundary=lie\r\nContent-Length: 100000\r\n\r\n"
                    + "--lie\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(randomBytes(5000));
            out.flush();
            // then nothing more: the gateway's read timeout ends the request
            String head = new String(readHead(socket.getInputStream()), StandardCharsets.US_ASCII);
            assertThat(head).startsWith("HTTP/1.1 408");
            assertThat(head.toLowerCase()).contains("content-type: application/problem+json");
        }
        assertThat(stagedFiles()).allMatch(name -> !name.endsWith(".part"));
    }

    @Test
    @Order(11)
    void abandoned_staged_files_are_swept_after_the_grace_period() throws Exception {
        Path halfWritten = Files.write(staging.resolve(UUID.randomUUID() + ".part"), randomBytes(100));
        Path neverRecorded = Files.write(staging.resolve(UUID.randomUUID().toString()), randomBytes(100));
        for (Path p : List.of(halfWritten, neverRecorded)) {
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(60)));
        }
        Path fresh = Files.write(staging.resolve(UUID.randomUUID() + ".part"), randomBytes(100));
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(halfWritten) && !Files.exists(neverRecorded));
        assertThat(fresh).as("a file still within its grace period stays").exists();
        Files.delete(fresh);
    }

    @Test
    @Order(12)
    void every_service_is_ready_exposes_its_metrics_and_logs_the_request_id_through_kafka() throws Exception {
        String requestId = "e2e-trace-" + UUID.randomUUID();
        var accepted = api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "traced.bin", "application/octet-stream", randomBytes(100_000))),
                "X-Request-Id", requestId);
        assertThat(accepted.status()).isEqualTo(202);
        assertThat(accepted.header("X-Request-Id")).isEqualTo(requestId);
        awaitSucceeded(accepted.json().path("jobId").asString());

        ServiceProcess worker = stack.workers.get(0);
        for (ServiceProcess service : List.of(gateway, stack.metadata, worker)) {
            JsonNode readiness = new TestHttp(service.managementUrl()).get("/actuator/health/readiness").json();
            assertThat(readiness.path("status").asString()).as(service.name).isEqualTo("UP");
        }
        assertThat(new TestHttp(stack.metadata.managementUrl()).get("/actuator/health/readiness").json()
                .path("components").propertyNames()).contains("db", "kafka");
        assertThat(new TestHttp(worker.managementUrl()).get("/actuator/health/readiness").json()
                .path("components").propertyNames()).contains("kafka", "objectStore");

        assertThat(metrics(gateway)).contains("uploads_accepted_total", "uploads_received_bytes_count",
                "uploads_rejected_total{reason=\"FILE_TOO_LARGE\"}", "http_server_requests_seconds_count",
                "tomcat_threads_busy_threads");
        assertThat(metrics(worker)).contains("upload_jobs_total{outcome=\"succeeded\"}",
                "upload_job_duration_seconds_bucket", "s3_calls_seconds_count{operation=\"PutObject\",outcome=\"success\"}",
                "kafka_retries_total", "kafka_dead_letters_total", "kafka_consumer_fetch_manager_records_lag",
                "jvm_memory_used_bytes");
        assertThat(metrics(stack.metadata)).contains("job_events_recorded_total", "audit_records_total",
                "hikaricp_connections_active");
        // every metric an alert of infra/monitoring/alerts.yml names is one of theirs
        String exposed = metrics(gateway) + metrics(worker) + metrics(stack.metadata);
        List<String> named = Alerts.metricNames(Path.of("../monitoring/alerts.yml"));
        assertThat(named).contains("jobs_queued_oldest_seconds", "jobs_awaiting_retry", "kafka_dead_letters_total");
        for (String metric : named) {
            assertThat(exposed.lines().anyMatch(line -> line.startsWith(metric + "{") || line.startsWith(metric + " ")))
                    .as("the alerts' metric %s is exposed", metric).isTrue();
        }

        // the gateway's request id reaches the worker's and the metadata-service's job lines through Kafka headers;
        // the file name never does
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(worker.log).contains(requestId)
                && Files.readString(stack.metadata.log).contains(requestId));
        assertThat(Files.readString(gateway.log)).contains(requestId);
        for (ServiceProcess service : List.of(gateway, stack.metadata, worker)) {
            assertThat(Files.readString(service.log)).as(service.name).doesNotContain("traced.bin", stack.adminToken, "X-Amz-Signature");
        }
    }

    @Test
    @Order(13)
    void a_gateway_whose_staging_disk_is_short_of_free_space_is_not_ready_and_answers_503_before_reading_a_body()
            throws Exception {
        Path ownStaging = Files.createTempDirectory("staging-full");
        // it keeps more free space than any disk has: for it, the disk is full
        try (ServiceProcess full = stack.startGateway(ownStaging, "--patient-images.staging.min-free-space=100000TB")) {
            TestHttp management = new TestHttp(full.managementUrl());
            TestHttp.Answer readiness = await().atMost(Duration.ofSeconds(120)).ignoreExceptions()
                    .until(() -> management.get("/actuator/health/readiness"), a -> a.status() != 404);
            assertThat(readiness.status()).isEqualTo(503);
            JsonNode uploads = readiness.json().path("components").path("uploads");
            assertThat(uploads.path("status").asString()).isEqualTo("DOWN");
            assertThat(uploads.path("details").path("reason").asString()).contains("minimum free space");
            assertThat(management.get("/actuator/health/liveness").json().path("status").asString()).isEqualTo("UP");

            try (Socket socket = new Socket("127.0.0.1", full.port)) {
                socket.setSoTimeout(15_000);
                socket.getOutputStream().write(("POST /v1/patients/" + patientId + "/images HTTP/1.1\r\n"
                        + "Host: 127.0.0.1\r\nAuthorization: Bearer " + stack.adminToken + "\r\n"
                        + "Content-Type: multipart/form-data; boundary=full\r\nContent-Length: 1048576\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                // not one byte of the body was sent; the answer comes anyway
                String head = new String(readHead(socket.getInputStream()), StandardCharsets.US_ASCII);
                assertThat(head).startsWith("HTTP/1.1 503");
                assertThat(head.toLowerCase()).contains("retry-after: 5", "content-type: application/problem+json");
            }
            TestHttp.Answer refused = new TestHttp(full.url()).withToken(stack.adminToken).postMultipart(
                    "/v1/patients/" + patientId + "/images",
                    List.of(Part.bytes("file", "f.bin", "application/octet-stream", randomBytes(10_000))));
            expectProblem(refused, 503, "STAGING_FULL");
            assertThat(refused.json().path("retryable").asBoolean()).isTrue();
            try (var left = Files.list(ownStaging)) {
                assertThat(left).isEmpty();
            }
            assertThat(metrics(full)).contains("uploads_rejected_total{reason=\"STAGING_FULL\"} 2.0");
        }
    }

    private static String metrics(ServiceProcess service) {
        TestHttp.Answer answer = new TestHttp(service.managementUrl()).get("/actuator/prometheus");
        assertThat(answer.status()).as(service.name).isEqualTo(200);
        return answer.text();
    }

    // --- helpers

    @Test
    @Order(14)
    void a_resumable_upload_goes_on_after_a_broken_connection_and_is_accepted_once() throws Exception {
        byte[] content = randomBytes(3 * 1024 * 1024 + 17);
        String metadata = "filename " + Tus.base64("../scans/ct series.bin") + ",name " + Tus.base64("CT series resumed")
                + ",tags " + Tus.base64("ct, Resumed") + ",sha256 " + Tus.base64(sha256(content)) + ",filetype "
                + Tus.base64("application/x-anything");
        HttpResponse<byte[]> created = tus(stack.adminToken, "POST", "/v1/patients/" + patientId + "/uploads", null,
                "Upload-Length", Integer.toString(content.length), "Upload-Metadata", metadata);
        assertThat(created.statusCode()).as(new String(created.body(), StandardCharsets.UTF_8)).isEqualTo(201);
        String location = created.headers().firstValue("Location").orElseThrow();
        assertThat(location).matches("/v1/uploads/[0-9a-f-]{36}");
        assertThat(created.headers().firstValue("Tus-Resumable")).hasValue("1.0.0");
        assertThat(created.headers().firstValue("Upload-Offset")).hasValue("0");
        assertThat(created.headers().firstValue("Upload-Expires")).isPresent();

        int first = 1024 * 1024;
        HttpResponse<byte[]> patched = tus(stack.adminToken, "PATCH", location, Arrays.copyOfRange(content, 0, first),
                "Upload-Offset", "0");
        assertThat(patched.statusCode()).isEqualTo(204);
        assertThat(patched.headers().firstValue("Upload-Offset")).hasValue(Integer.toString(first));

        // the next chunk's connection stalls after 300 KiB: the read timeout ends the request, what arrived stays
        int sent = 300 * 1024;
        try (Socket socket = new Socket("127.0.0.1", gateway.port)) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(("PATCH " + location + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + stack.adminToken + "\r\nTus-Resumable: 1.0.0\r\n"
                    + "Content-Type: application/offset+octet-stream\r\nUpload-Offset: " + first + "\r\n"
                    + "Content-Length: " + (content.length - first) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(content, first, sent);
            out.flush();
            String head = new String(readHead(socket.getInputStream()), StandardCharsets.US_ASCII);
            assertThat(head).startsWith("HTTP/1.1 408");
        }
        HttpResponse<byte[]> offset = tus(stack.adminToken, "HEAD", location, null);
        assertThat(offset.statusCode()).isEqualTo(200);
        assertThat(offset.headers().firstValue("Upload-Offset")).hasValue(Integer.toString(first + sent));
        assertThat(offset.headers().firstValue("Upload-Length")).hasValue(Integer.toString(content.length));
        assertThat(offset.headers().firstValue("Cache-Control")).hasValue("no-store");
        JsonNode receiving = api.get(location).json();
        assertThat(receiving.path("status").asString()).isEqualTo("RECEIVING");
        assertThat(receiving.path("offset").asLong()).isEqualTo(first + sent);
        assertThat(receiving.path("createdAt").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(receiving.path("expiresAt").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

        // bytes at the wrong offset change nothing; another user's upload is not there for anyone else
        HttpResponse<byte[]> wrong = tus(stack.adminToken, "PATCH", location, new byte[10], "Upload-Offset", "0");
        assertThat(wrong.statusCode()).isEqualTo(409);
        assertThat(new String(wrong.body(), StandardCharsets.UTF_8)).contains("OFFSET_MISMATCH");
        String alice = stack.token("alice");
        assertThat(tus(alice, "HEAD", location, null).statusCode()).isEqualTo(404);
        expectProblem(new TestHttp(gateway.url()).withToken(alice).get(location), 404, "UPLOAD_NOT_FOUND");

        int resumeAt = first + sent;
        HttpResponse<byte[]> last = tus(stack.adminToken, "PATCH", location,
                Arrays.copyOfRange(content, resumeAt, content.length), "Upload-Offset", Integer.toString(resumeAt));
        assertThat(last.statusCode()).as(new String(last.body(), StandardCharsets.UTF_8)).isEqualTo(204);
        assertThat(last.headers().firstValue("Upload-Offset")).hasValue(Integer.toString(content.length));
        JsonNode accepted = api.get(location).json();
        assertThat(accepted.path("status").asString()).isEqualTo("ACCEPTED");
        String jobId = accepted.path("jobId").asString();
        String imageId = accepted.path("imageId").asString();
        assertThat(last.headers().allValues("Link")).contains("</v1/jobs/" + jobId + ">; rel=\"job\"");
        awaitSucceeded(jobId);
        JsonNode image = api.get("/v1/images/" + imageId).json();
        assertThat(image.path("sha256").asString()).isEqualTo(sha256(content));
        assertThat(image.path("sizeBytes").asLong()).isEqualTo(content.length);
        assertThat(image.path("originalFilename").asString()).isEqualTo("ct series.bin");
        assertThat(image.path("name").asString()).isEqualTo("CT series resumed");
        assertThat(image.path("tags").toString()).isEqualTo("[\"ct\",\"resumed\"]");
        var download = api.get(api.get("/v1/images/" + imageId + "/content").header("Location"));
        assertThat(sha256(download.bytes())).isEqualTo(sha256(content));

        // the last chunk's answer was lost: sent again, it gets the same answer and records nothing new
        HttpResponse<byte[]> again = tus(stack.adminToken, "PATCH", location, new byte[0],
                "Upload-Offset", Integer.toString(content.length));
        assertThat(again.statusCode()).isEqualTo(204);
        assertThat(api.get(location).json().path("jobId").asString()).isEqualTo(jobId);
        assertThat(api.get("/v1/images?patientId=" + patientId + "&q=resumed").json().path("items")).hasSize(1);
        assertThat(resumableFiles()).noneMatch(name -> name.endsWith(".bin"));

        assertThat(tus(stack.adminToken, "DELETE", location, null).statusCode()).isEqualTo(204);
        assertThat(tus(stack.adminToken, "HEAD", location, null).statusCode()).isEqualTo(404);
        assertThat(api.get("/v1/images/" + imageId).json().path("status").asString()).isEqualTo("AVAILABLE");
    }

    @Test
    @Order(15)
    void a_tus_client_pauses_and_resumes_and_bytes_of_a_refused_type_end_their_upload_at_once() throws Exception {
        byte[] content = randomBytes(2 * 1024 * 1024 + 5);
        Path file = Files.write(staging.getParent().resolve("tus-" + UUID.randomUUID() + ".bin"), content);
        TusUpload upload = new TusUpload(file.toFile());
        upload.setMetadata(Map.of("filename", "from-tus.bin", "name", "sent with tus-java-client"));
        TusClient client = new TusClient();
        client.setUploadCreationURL(URI.create(gateway.url() + "/v1/patients/" + patientId + "/uploads").toURL());
        client.setHeaders(Map.of("Authorization", "Bearer " + stack.adminToken));
        TusUploader uploader = client.createUpload(upload);
        uploader.setChunkSize(64 * 1024);
        uploader.setRequestPayloadSize(256 * 1024);
        while (uploader.getOffset() < 1024 * 1024 && uploader.uploadChunk() > -1) {
            // a few requests, then the client stops
        }
        uploader.finish();
        URL url = uploader.getUploadURL();
        long paused = uploader.getOffset();
        assertThat(api.get(url.getPath()).json().path("offset").asLong()).isEqualTo(paused);

        // a new client (another process, after a restart) goes on from where the server says it is
        TusClient resumed = new TusClient();
        resumed.setHeaders(Map.of("Authorization", "Bearer " + stack.adminToken));
        TusUploader rest = resumed.beginOrResumeUploadFromURL(new TusUpload(file.toFile()), url);
        assertThat(rest.getOffset()).isEqualTo(paused);
        rest.setRequestPayloadSize(1024 * 1024);
        while (rest.uploadChunk() > -1) {
            // to the end
        }
        rest.finish();
        JsonNode accepted = api.get(url.getPath()).json();
        assertThat(accepted.path("status").asString()).isEqualTo("ACCEPTED");
        awaitSucceeded(accepted.path("jobId").asString());
        JsonNode image = api.get("/v1/images/" + accepted.path("imageId").asString()).json();
        assertThat(image.path("sha256").asString()).isEqualTo(sha256(content));
        assertThat(image.path("originalFilename").asString()).isEqualTo("from-tus.bin");
        Files.delete(file);

        byte[] html = "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> created = tus(stack.adminToken, "POST", "/v1/patients/" + patientId + "/uploads", null,
                "Upload-Length", Integer.toString(html.length));
        String location = created.headers().firstValue("Location").orElseThrow();
        HttpResponse<byte[]> refused = tus(stack.adminToken, "PATCH", location, html, "Upload-Offset", "0");
        assertThat(refused.statusCode()).isEqualTo(415);
        assertThat(new String(refused.body(), StandardCharsets.UTF_8)).contains("UNSUPPORTED_MEDIA_TYPE");
        assertThat(tus(stack.adminToken, "HEAD", location, null).statusCode()).isEqualTo(404);
        assertThat(resumableFiles()).noneMatch(name -> name.startsWith(location.substring("/v1/uploads/".length())));

        expectProblem(api.send("POST", "/v1/patients/" + patientId + "/uploads", null), 400, "UPLOAD_LENGTH_REQUIRED");
        // a tag the registration would refuse is refused before a byte is sent
        HttpResponse<byte[]> badTag = tus(stack.adminToken, "POST", "/v1/patients/" + patientId + "/uploads", null,
                "Upload-Length", "10", "Upload-Metadata", "tags " + Tus.base64("knee, not a tag!"));
        assertThat(badTag.statusCode()).isEqualTo(400);
        assertThat(new String(badTag.body(), StandardCharsets.UTF_8)).contains("INVALID_METADATA", "not a tag!");
        HttpResponse<byte[]> tooLarge = tus(stack.adminToken, "POST", "/v1/patients/" + patientId + "/uploads", null,
                "Upload-Length", Long.toString(MAX_FILE + 1));
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        HttpResponse<byte[]> unknownPatient = tus(stack.adminToken, "POST", "/v1/patients/" + UUID.randomUUID()
                + "/uploads", null, "Upload-Length", "10");
        assertThat(unknownPatient.statusCode()).isEqualTo(404);
        HttpResponse<byte[]> discovery = tus(stack.adminToken, "OPTIONS", "/v1/patients/" + patientId + "/uploads", null);
        assertThat(discovery.statusCode()).isEqualTo(204);
        assertThat(discovery.headers().firstValue("Tus-Version")).hasValue("1.0.0");
        assertThat(discovery.headers().firstValue("Tus-Extension"))
                .hasValue("creation,creation-with-upload,termination,expiration,checksum,concatenation");
        assertThat(discovery.headers().firstValue("Tus-Max-Size")).hasValue(Long.toString(MAX_FILE));
        assertThat(discovery.headers().firstValue("Tus-Checksum-Algorithm")).hasValue("sha1,sha256,md5");
    }

    @Test
    @Order(16)
    void a_small_file_is_one_creation_request_and_chunks_with_a_checksum_are_kept_only_when_they_match()
            throws Exception {
        String create = "/v1/patients/" + patientId + "/uploads";
        // creation-with-upload: the whole file in the creation request, accepted by it
        byte[] small = randomBytes(300_000);
        HttpResponse<byte[]> whole = tus(stack.adminToken, "POST", create, small, "Upload-Length",
                Integer.toString(small.length), "Upload-Checksum", "sha256 " + base64Digest("SHA-256", small),
                "Upload-Metadata", "filename " + Tus.base64("one-go.bin"));
        assertThat(whole.statusCode()).as(new String(whole.body(), StandardCharsets.UTF_8)).isEqualTo(201);
        assertThat(whole.headers().firstValue("Upload-Offset")).hasValue(Integer.toString(small.length));
        JsonNode accepted = tools.jackson.databind.json.JsonMapper.builder().build().readTree(whole.body());
        assertThat(accepted.path("status").asString()).isEqualTo("ACCEPTED");
        String jobId = accepted.path("jobId").asString();
        assertThat(whole.headers().allValues("Link")).contains("</v1/jobs/" + jobId + ">; rel=\"job\"");
        awaitSucceeded(jobId);
        assertThat(api.get("/v1/images/" + accepted.path("imageId").asString()).json().path("sha256").asString())
                .isEqualTo(sha256(small));

        // the first chunk with the creation, the rest by PATCH; a chunk that does not match its checksum is dropped
        byte[] content = randomBytes(1024 * 1024 + 3);
        int first = 400_000;
        HttpResponse<byte[]> created = tus(stack.adminToken, "POST", create, Arrays.copyOfRange(content, 0, first),
                "Upload-Length", Integer.toString(content.length));
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.headers().firstValue("Upload-Offset")).hasValue(Integer.toString(first));
        String location = created.headers().firstValue("Location").orElseThrow();
        byte[] rest = Arrays.copyOfRange(content, first, content.length);
        byte[] damaged = rest.clone();
        damaged[damaged.length / 2] ^= 1;
        HttpResponse<byte[]> mismatch = tus(stack.adminToken, "PATCH", location, damaged, "Upload-Offset",
                Integer.toString(first), "Upload-Checksum", "sha1 " + base64Digest("SHA-1", rest));
        assertThat(mismatch.statusCode()).isEqualTo(460);
        assertThat(mismatch.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(new String(mismatch.body(), StandardCharsets.UTF_8)).contains("CHECKSUM_MISMATCH");
        assertThat(tus(stack.adminToken, "HEAD", location, null).headers().firstValue("Upload-Offset"))
                .as("nothing of the damaged chunk").hasValue(Integer.toString(first));
        HttpResponse<byte[]> unknown = tus(stack.adminToken, "PATCH", location, rest, "Upload-Offset",
                Integer.toString(first), "Upload-Checksum", "crc32 AAAAAA==");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(new String(unknown.body(), StandardCharsets.UTF_8)).contains("CHECKSUM_ALGORITHM_UNSUPPORTED");
        HttpResponse<byte[]> sent = tus(stack.adminToken, "PATCH", location, rest, "Upload-Offset",
                Integer.toString(first), "Upload-Checksum", "sha1 " + base64Digest("SHA-1", rest));
        assertThat(sent.statusCode()).isEqualTo(204);
        JsonNode done = api.get(location).json();
        assertThat(done.path("status").asString()).isEqualTo("ACCEPTED");
        awaitSucceeded(done.path("jobId").asString());
        assertThat(api.get("/v1/images/" + done.path("imageId").asString()).json().path("sha256").asString())
                .isEqualTo(sha256(content));

        // a creation whose body fails creates nothing: a damaged body, and HTML
        List<String> before = resumableFiles();
        HttpResponse<byte[]> badFirst = tus(stack.adminToken, "POST", create, damaged, "Upload-Length",
                Integer.toString(content.length), "Upload-Checksum", "md5 " + base64Digest("MD5", rest));
        assertThat(badFirst.statusCode()).isEqualTo(460);
        assertThat(badFirst.headers().firstValue("Location")).isEmpty();
        byte[] html = "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8);
        HttpResponse<byte[]> refused = tus(stack.adminToken, "POST", create, html, "Upload-Length",
                Integer.toString(html.length));
        assertThat(refused.statusCode()).isEqualTo(415);
        assertThat(resumableFiles()).isSubsetOf(before);
    }

    @Test
    @Order(17)
    void a_zip_archive_becomes_one_image_per_file_all_or_none_and_its_retry_makes_nothing_new() throws Exception {
        String archive = "/v1/patients/" + patientId + "/images/archive";
        byte[] png = TestImages.aPngImage(64, 48);
        byte[] dicom = TestDicom.ctSlice(64, 64).toBytes();
        byte[] blob = randomBytes(700_000);
        Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        files.put("export/", null);
        files.put("export/series1/IM0001", dicom);
        files.put("export/photo.png", png);
        files.put("export/.DS_Store", randomBytes(20));
        files.put("__MACOSX/export/._photo.png", randomBytes(20));
        files.put("../../notes.bin", blob);
        byte[] zip = zip(files);
        List<Part> form = List.of(Part.bytes("file", "series.zip", "application/zip", zip),
                Part.json("metadata", Map.of("description", "CT export", "tags", List.of("ct", "archive"),
                        "sha256", sha256(zip))));

        String key = "archive-" + UUID.randomUUID();
        var accepted = api.postMultipart(archive, form, "Idempotency-Key", key);
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        JsonNode items = accepted.json().path("items");
        assertThat(items).hasSize(3);
        List<String> names = new ArrayList<>();
        List<byte[]> expected = List.of(dicom, png, blob);
        for (int i = 0; i < 3; i++) {
            JsonNode item = items.get(i);
            assertThat(item.path("status").asString()).isEqualTo("QUEUED");
            awaitSucceeded(item.path("jobId").asString());
            JsonNode image = api.get("/v1/images/" + item.path("imageId").asString()).json();
            assertThat(image.path("sha256").asString()).isEqualTo(sha256(expected.get(i)));
            assertThat(image.path("description").asString()).isEqualTo("CT export");
            assertThat(image.path("tags").valueStream().map(JsonNode::asString).toList())
                    .containsExactlyInAnyOrder("ct", "archive");
            names.add(image.path("originalFilename").asString());
        }
        assertThat(names).containsExactly("IM0001", "photo.png", "notes.bin");
        assertThat(api.get("/v1/images/" + items.get(0).path("imageId").asString()).json().path("contentType")
                .asString()).isEqualTo("application/dicom");

        // the retry gets the same jobs without a byte read again, and creates nothing
        var again = api.postMultipart(archive, form, "Idempotency-Key", key);
        assertThat(again.status()).isEqualTo(202);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(again.json().path("items")).isEqualTo(items);

        // refused whole: a file of a refused type, a declared checksum that does not match, an inflating bomb
        long imagesBefore = countImages();
        Map<String, byte[]> withHtml = new java.util.LinkedHashMap<>();
        withHtml.put("ok.bin", randomBytes(50_000));
        withHtml.put("page.html", "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8));
        var refused = api.postMultipart(archive, List.of(Part.bytes("file", "mixed.zip", "application/zip",
                zip(withHtml))));
        expectProblem(refused, 415, "UNSUPPORTED_MEDIA_TYPE");
        assertThat(refused.json().path("detail").asString()).startsWith("'page.html' in the archive");
        var mismatch = api.postMultipart(archive, List.of(Part.bytes("file", "series.zip", "application/zip", zip),
                Part.json("metadata", Map.of("sha256", sha256(blob)))));
        expectProblem(mismatch, 422, "CHECKSUM_MISMATCH");
        var bomb = api.postMultipart(archive, List.of(Part.bytes("file", "bomb.zip", "application/zip",
                zip(Map.of("zeros.bin", new byte[(int) MAX_FILE + 1])))));
        expectProblem(bomb, 413, "FILE_TOO_LARGE");
        expectProblem(api.postMultipart(archive, List.of(Part.bytes("file", "x.zip", "application/zip",
                randomBytes(3000)))), 400, "EMPTY_ARCHIVE");
        // each file's key is <key>#<n>: an archive's key leaves room for that
        expectProblem(api.postMultipart(archive, form, "Idempotency-Key", "k".repeat(255)), 400,
                "INVALID_IDEMPOTENCY_KEY");
        assertThat(countImages()).isEqualTo(imagesBefore);
        await().atMost(Duration.ofSeconds(30)).until(() -> stagedFiles().stream().noneMatch(n -> n.endsWith(".part")));
    }

    @Test
    @Order(24)
    void a_dicomweb_client_stores_a_series_all_or_none_then_finds_and_retrieves_it() throws Exception {
        String patient = api.postJson("/v1/patients", Map.of("name", "Stow Sender", "username", "stowsender"))
                .json().path("patientId").asString();
        String store = "/v1/patients/" + patient + "/dicomweb/studies";
        String series = "1.2.826.0.1.3680043.2.1125.7";
        Map<String, byte[]> instances = new java.util.LinkedHashMap<>();
        for (int i = 1; i <= 3; i++) {
            instances.put(series + "." + i, TestDicom.ctSlice(32, 32).string(0x00080018, "UI", series + "." + i)
                    .string(0x0020000E, "UI", series).toBytes());
        }
        List<Part> parts = instances.values().stream()
                .map(bytes -> Part.bytes(null, null, "application/dicom", bytes)).toList();

        var stored = api.postRelated(store, "application/dicom", parts, "Accept", "application/dicom+json");

        assertThat(stored.status()).as(stored.toString()).isEqualTo(200);
        assertThat(stored.contentType()).startsWith("application/dicom+json");
        JsonNode referenced = stored.json().path("00081199");
        assertThat(referenced.path("vr").asString()).isEqualTo("SQ");
        assertThat(referenced.path("Value").valueStream()
                .map(item -> item.path("00081155").path("Value").get(0).asString()).toList())
                .containsExactlyElementsOf(instances.keySet());
        assertThat(referenced.path("Value").get(0).path("00081150").path("Value").get(0).asString())
                .isEqualTo("1.2.840.10008.5.1.4.1.1.2");
        // each instance is an image of the patient, named by its UID, stored as sent and found by its UID
        for (var instance : instances.entrySet()) {
            String search = "/v1/patients/" + patient + "/images?sopInstanceUid=" + instance.getKey();
            await().atMost(Duration.ofSeconds(60)).until(() -> api.get(search).json().path("items").size() == 1);
            JsonNode image = api.get(search).json().path("items").get(0);
            assertThat(image.path("originalFilename").asString()).isEqualTo(instance.getKey() + ".dcm");
            assertThat(image.path("contentType").asString()).isEqualTo("application/dicom");
            assertThat(image.path("sha256").asString()).isEqualTo(sha256(instance.getValue()));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=image.store-instances&patientId="
                + patient).json().path("items").size() == 1);

        // refused whole, with nothing kept: a PNG among the DICOM files, a part that says it is a PNG, a form,
        // bytes that are no DICOM file, no part at all, a patient that is not there
        String images = "/v1/patients/" + patient + "/images?limit=500";
        int before = api.get(images).json().path("items").size();
        byte[] png = TestImages.aPngImage(16, 16);
        var mixed = api.postRelated(store, "application/dicom", List.of(parts.get(0),
                Part.bytes(null, null, "application/dicom", png)), "Accept", "application/dicom+json");
        expectProblem(mixed, 415, "UNSUPPORTED_MEDIA_TYPE");
        assertThat(mixed.json().path("detail").asString()).startsWith("Part 2: its bytes are image/png");
        var declared = api.postRelated(store, "application/dicom", List.of(Part.bytes(null, null, "image/png", png)));
        expectProblem(declared, 415, "UNSUPPORTED_MEDIA_TYPE");
        assertThat(declared.json().path("detail").asString()).startsWith("Part 1 is image/png");
        expectProblem(api.postMultipart(store, List.of(Part.bytes("file", "a.dcm", "application/dicom",
                instances.values().iterator().next()))), 415, "UNSUPPORTED_MEDIA_TYPE");
        expectProblem(api.postRelated(store, "application/dicom+json", parts), 415, "UNSUPPORTED_MEDIA_TYPE");
        expectProblem(api.postRelated(store, "application/dicom", List.of(Part.bytes(null, null, null,
                randomBytes(4000)))), 415, "UNSUPPORTED_MEDIA_TYPE");
        expectProblem(api.postRelated(store, "application/dicom", List.of()), 400, "NO_INSTANCES");
        expectProblem(api.postRelated("/v1/patients/" + UUID.randomUUID() + "/dicomweb/studies", "application/dicom",
                parts), 404, "PATIENT_NOT_FOUND");
        assertThat(api.get(images).json().path("items").size()).isEqualTo(before);
        await().atMost(Duration.ofSeconds(30)).until(() -> stagedFiles().stream().noneMatch(n -> n.endsWith(".part")));

        // an instance sent again is stored again (flagged a duplicate), and is still one instance to DICOMweb clients
        String first = series + ".1";
        assertThat(api.postRelated(store, "application/dicom", List.of(parts.get(0))).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() -> api.get("/v1/patients/" + patient
                + "/images?status=AVAILABLE&sopInstanceUid=" + first).json().path("items").size() == 2);

        // the search (QIDO-RS): the study, its series and their instances, in the DICOM JSON model
        String root = "/v1/patients/" + patient + "/dicomweb";
        String study = "1.2.826.0.1.3680043.2.1125.2";
        var studies = api.get(root + "/studies", "Accept", "application/dicom+json");
        assertThat(studies.status()).as(studies.toString()).isEqualTo(200);
        assertThat(studies.contentType()).startsWith("application/dicom+json");
        assertThat(studies.json()).hasSize(1);
        JsonNode found = studies.json().get(0);
        assertThat(found.path("0020000D").path("Value").get(0).asString()).isEqualTo(study);
        assertThat(found.path("00201208").path("Value").get(0).asString()).isEqualTo("3");
        assertThat(found.path("00080061").path("Value").get(0).asString()).isEqualTo("CT");
        assertThat(found.path("00081190").path("Value").get(0).asString()).endsWith(root + "/studies/" + study);
        assertThat(api.get(root + "/studies?StudyDate=20261101-20261130&ModalitiesInStudy=CT").json()).hasSize(1);
        assertThat(api.get(root + "/studies?StudyDate=20250101-20251231").json()).isEmpty();
        expectProblem(api.get(root + "/studies?PatientSex=F"), 400, "INVALID_PARAMETER");
        JsonNode seriesFound = api.get(root + "/studies/" + study + "/series").json();
        assertThat(seriesFound).hasSize(1);
        assertThat(seriesFound.get(0).path("0020000E").path("Value").get(0).asString()).isEqualTo(series);
        assertThat(seriesFound.get(0).path("00201209").path("Value").get(0).asString()).isEqualTo("3");
        String seriesRoot = root + "/studies/" + study + "/series/" + series;
        JsonNode found3 = api.get(seriesRoot + "/instances").json();
        assertThat(found3.valueStream().map(i -> i.path("00080018").path("Value").get(0).asString()).toList())
                .containsExactlyInAnyOrderElementsOf(instances.keySet());
        assertThat(found3.get(0).path("00080016").path("Value").get(0).asString())
                .isEqualTo("1.2.840.10008.5.1.4.1.1.2");
        assertThat(api.get(root + "/studies/" + study + "/instances?SOPInstanceUID=" + first).json()).hasSize(1);
        // at the root: the patient's DICOM images, or one instance by its UID (a PACS asking whether it is here)
        assertThat(api.get(root + "/instances").json()).hasSize(3);
        assertThat(api.get(root + "/instances?SOPInstanceUID=" + first).json()).hasSize(1);

        // the retrieval (WADO-RS): the files as stored, one part each, checked against their SHA-256 on the way
        var one = api.get(seriesRoot + "/instances/" + first, "Accept",
                "multipart/related; type=\"application/dicom\"; transfer-syntax=*");
        assertThat(one.status()).as(one.toString()).isEqualTo(200);
        assertThat(one.contentType()).startsWith("multipart/related; type=\"application/dicom\"; boundary=");
        assertThat(relatedParts(one)).containsExactly(instances.get(first));
        // as some clients ask: the type's value not quoted
        List<byte[]> all = relatedParts(api.get(root + "/studies/" + study, "Accept",
                "multipart/related; type=application/dicom"));
        assertThat(all).hasSize(3);
        for (byte[] file : instances.values()) {
            assertThat(all).anySatisfy(part -> assertThat(part).isEqualTo(file));
        }
        assertThat(relatedParts(api.get(seriesRoot, "Accept", "multipart/related"))).hasSize(3);
        expectProblem(api.get(seriesRoot + "/instances/" + first, "Accept", "application/zip"), 406, "NOT_ACCEPTABLE");
        // what a viewer reads (OHIF): every instance's data set in DICOM JSON, names too, and its frames' pixels
        var metadata = api.get(seriesRoot + "/metadata", "Accept", "application/dicom+json");
        assertThat(metadata.status()).as(metadata.toString()).isEqualTo(200);
        assertThat(metadata.contentType()).startsWith("application/dicom+json");
        assertThat(metadata.json().valueStream().map(i -> i.path("00080018").path("Value").get(0).asString()))
                .containsExactlyInAnyOrderElementsOf(instances.keySet());
        JsonNode firstMetadata = api.get(seriesRoot + "/instances/" + first + "/metadata").json().get(0);
        assertThat(firstMetadata.path("00100010").path("Value").get(0).path("Alphabetic").asString())
                .isEqualTo("DOE^JANE");
        assertThat(firstMetadata.path("00280010").path("Value").get(0).asInt()).isEqualTo(32);
        assertThat(firstMetadata.path("00281050").path("Value").get(0).asInt()).isEqualTo(40);
        assertThat(firstMetadata.path("7FE00010").path("BulkDataURI").asString())
                .endsWith(seriesRoot + "/instances/" + first + "/frames/1");
        assertThat(api.get(root + "/studies/" + study + "/metadata").json()).hasSize(3);
        var frame = api.get(seriesRoot + "/instances/" + first + "/frames/1", "Accept",
                "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*");
        assertThat(frame.contentType()).startsWith("multipart/related; type=\"application/octet-stream\"; boundary=");
        java.nio.ByteBuffer pixels = java.nio.ByteBuffer.allocate(32 * 32 * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        pixels.asShortBuffer().put(TestDicom.ctPixels(32, 32));
        assertThat(relatedParts(frame, "application/octet-stream; transfer-syntax=" + TestDicom.EXPLICIT_LITTLE))
                .containsExactly(pixels.array());
        expectProblem(api.get(seriesRoot + "/instances/" + first + "/frames/2"), 404, "FRAME_NOT_FOUND");
        expectProblem(api.get(seriesRoot + "/instances/" + first + "/frames/0"), 400, "INVALID_PARAMETER");
        expectProblem(api.get(seriesRoot + "/instances/" + first + "/frames/1", "Accept",
                "multipart/related; type=\"application/octet-stream\"; transfer-syntax=1.2.840.10008.1.2.4.50"),
                406, "NOT_ACCEPTABLE");
        expectProblem(api.get(seriesRoot + "/metadata", "Accept", "application/dicom+xml"), 406, "NOT_ACCEPTABLE");
        // the thumbnails a viewer shows for a study, a series and an instance: the PNG the worker rendered
        String instanceThumbnail = seriesRoot + "/instances/" + first + "/thumbnail";
        await().atMost(Duration.ofSeconds(30)).until(() -> api.get(instanceThumbnail).status() == 200);
        for (String thumbnail : List.of(instanceThumbnail, seriesRoot + "/thumbnail", root + "/studies/" + study
                + "/thumbnail")) {
            var rendered = api.get(thumbnail, "Accept", "image/png");
            assertThat(rendered.status()).as(rendered.toString()).isEqualTo(200);
            assertThat(rendered.contentType()).isEqualTo("image/png");
            var picture = javax.imageio.ImageIO.read(new ByteArrayInputStream(rendered.bytes()));
            assertThat(picture.getWidth()).isEqualTo(32);
            assertThat(picture.getHeight()).isEqualTo(32);
        }
        expectProblem(api.get(seriesRoot + "/thumbnail", "Accept", "image/jpeg"), 406, "NOT_ACCEPTABLE");
        expectProblem(api.get(seriesRoot + "/instances/1.2.3.4/thumbnail"), 404, "INSTANCE_NOT_FOUND");
        expectProblem(api.get(seriesRoot + "/instances/1.2.3.4"), 404, "INSTANCE_NOT_FOUND");
        expectProblem(api.get(root + "/studies/not-a-uid"), 400, "INVALID_PARAMETER");
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=dicomweb.retrieve&patientId="
                + patient).json().path("items").size() >= 3);

        // a binary value too long for the metadata is bulk data, fetched by the link the metadata gives
        byte[] blob = randomBytes(100_000);
        String other = "1.2.826.0.1.3680043.2.1125.12";
        assertThat(api.postRelated(store, "application/dicom", List.of(Part.bytes(null, null, "application/dicom",
                TestDicom.ctSlice(8, 8).string(0x0020000D, "UI", other).string(0x0020000E, "UI", other + ".1")
                        .string(0x00080018, "UI", other + ".1.1").bytes(0x00091010, "OB", blob).toBytes()))).status())
                .isEqualTo(200);
        String otherInstance = root + "/studies/" + other + "/series/" + other + ".1/instances/" + other + ".1.1";
        await().atMost(Duration.ofSeconds(60)).until(() -> api.get(otherInstance + "/metadata").status() == 200);
        JsonNode withBulk = api.get(otherInstance + "/metadata").json().get(0).path("00091010");
        assertThat(withBulk.path("vr").asString()).isEqualTo("OB");
        assertThat(withBulk.path("BulkDataURI").asString()).endsWith(otherInstance + "/bulkdata/00091010");
        assertThat(relatedParts(api.get(otherInstance + "/bulkdata/00091010"), "application/octet-stream"))
                .containsExactly(blob);
        var alone = api.get(otherInstance + "/bulkdata/00091010", "Accept", "application/octet-stream");
        assertThat(alone.contentType()).isEqualTo("application/octet-stream");
        assertThat(alone.bytes()).isEqualTo(blob);
        expectProblem(api.get(otherInstance + "/bulkdata/00100010"), 404, "BULKDATA_NOT_FOUND");
        expectProblem(api.get(otherInstance + "/bulkdata/00091010", "Accept", "image/png"), 406, "NOT_ACCEPTABLE");
    }

    @Test
    @Order(25)
    void at_the_services_dicomweb_root_a_persons_studies_are_found_by_the_patient_id_of_their_files_and_pulled() {
        // two patients of the service, each with a study stored by DICOMweb; the files carry the hospital's PatientID
        Map<String, String> patients = new java.util.LinkedHashMap<>();
        Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        String mark = Long.toString(System.nanoTime());
        for (String who : List.of("a", "b")) {
            String patient = api.postJson("/v1/patients", Map.of("name", "Root " + who,
                    "username", "root" + who + mark, "birthDate", who.equals("a") ? "1970-01-31" : "1985-06-15"))
                    .json().path("patientId").asString();
            String study = "1.2.826.0.1.3680043.2.1125.8." + mark + (who.equals("a") ? ".1" : ".2");
            byte[] file = TestDicom.ctSlice(16, 16).string(0x00100020, "LO", "MRN-" + who + mark)
                    .string(0x00081030, "LO", "CT Thorax " + who).string(0x00100010, "PN", "FILE^NAME")
                    .string(0x0020000D, "UI", study).string(0x0020000E, "UI", study + ".1")
                    .string(0x00080018, "UI", study + ".1.1").toBytes();
            var stored = api.postRelated("/v1/patients/" + patient + "/dicomweb/studies", "application/dicom",
                    List.of(Part.bytes(null, null, "application/dicom", file)));
            assertThat(stored.status()).as(stored.toString()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(60)).until(() -> api.get("/v1/images?sopInstanceUid=" + study + ".1.1")
                    .json().path("items").size() == 1);
            patients.put(study, patient);
            files.put(study, file);
        }
        List<String> studies = new ArrayList<>(patients.keySet());
        String a = studies.get(0);
        String b = studies.get(1);

        JsonNode byPatientId = api.get("/v1/dicomweb/studies?PatientID=MRN-a" + mark).json();
        assertThat(byPatientId).hasSize(1);
        assertThat(byPatientId.get(0).path("0020000D").path("Value").get(0).asString()).isEqualTo(a);
        assertThat(byPatientId.get(0).path("00100020").path("Value").get(0).asString()).isEqualTo("MRN-a" + mark);
        // the name of the service's patient, not the file's; the description the worker read from the file
        assertThat(byPatientId.get(0).path("00100010").path("Value").get(0).path("Alphabetic").asString())
                .isEqualTo("Root a");
        assertThat(byPatientId.get(0).path("00081030").path("Value").get(0).asString()).isEqualTo("CT Thorax a");
        assertThat(byPatientId.get(0).path("00100030").path("Value").get(0).asString()).isEqualTo("19700131");
        assertThat(studyUids(api.get("/v1/dicomweb/studies?PatientBirthDate=19700131&limit=2").json()))
                .containsExactly(a);
        assertThat(studyUids(api.get("/v1/dicomweb/studies?PatientName=ROOT*&StudyDescription=*thorax*&limit=2")
                .json())).containsExactly(b, a);
        assertThat(studyUids(api.get("/v1/dicomweb/studies?PatientName=FILE*&limit=2").json())).isEmpty();
        assertThat(byPatientId.get(0).path("00081190").path("Value").get(0).asString())
                .endsWith("/v1/dicomweb/studies/" + a);
        assertThat(api.get("/v1/dicomweb/studies?StudyInstanceUID=" + a + "," + b).json()).hasSize(2);
        assertThat(api.get("/v1/dicomweb/studies?StudyDate=20261127&PatientID=MRN-b" + mark).json()).hasSize(1);
        assertThat(api.get("/v1/dicomweb/studies?StudyDate=20250101-20251231&PatientID=MRN-b" + mark).json())
                .isEmpty();
        // nothing narrowing them (a viewer's study list): the latest received first, as many as asked
        assertThat(studyUids(api.get("/v1/dicomweb/studies?limit=2&offset=0&fuzzymatching=false"
                + "&includefield=00081030,00080060").json())).containsExactly(b, a);
        assertThat(studyUids(api.get("/v1/dicomweb/studies?limit=1&offset=1").json())).containsExactly(a);
        assertThat(studyUids(api.get("/v1/dicomweb/studies?ModalitiesInStudy=CT&limit=2").json()))
                .containsExactly(b, a);
        assertThat(studyUids(api.get("/v1/dicomweb/studies?ModalitiesInStudy=MR&limit=50").json()))
                .doesNotContain(a, b);
        assertThat(api.get("/v1/dicomweb/instances?SOPInstanceUID=" + b + ".1.1").json()).hasSize(1);
        expectProblem(api.get("/v1/dicomweb/instances?InstanceNumber=1"), 400, "INSTANCE_FILTER_REQUIRED");
        assertThat(api.get("/v1/dicomweb/studies/" + a + "/series").json()).hasSize(1);
        assertThat(api.get("/v1/dicomweb/studies/" + a + "/instances").json()).hasSize(1);
        assertThat(relatedParts(api.get("/v1/dicomweb/studies/" + a))).containsExactly(files.get(a));
        assertThat(relatedParts(api.get("/v1/dicomweb/studies/" + b + "/series/" + b + ".1/instances/" + b + ".1.1")))
                .containsExactly(files.get(b));
        // the retrieval is in the trail of the patient whose files went out
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=dicomweb.retrieve&patientId="
                + patients.get(a)).json().path("items").size() == 1);

        // a clinician not granted these patients finds nothing and pulls nothing
        TestHttp alice = api.withToken(stack.token("alice"));
        var none = alice.get("/v1/dicomweb/studies?PatientID=MRN-a" + mark);
        assertThat(none.status()).as(none.toString()).isEqualTo(200);
        assertThat(none.json()).isEmpty();
        assertThat(studyUids(alice.get("/v1/dicomweb/studies?limit=100").json())).doesNotContain(a, b);
        expectProblem(alice.get("/v1/dicomweb/studies/" + a), 404, "STUDY_NOT_FOUND");
        expectProblem(alice.get("/v1/dicomweb/studies/" + a + "/metadata"), 404, "STUDY_NOT_FOUND");
        expectProblem(alice.get("/v1/dicomweb/studies/" + a + "/series/" + a + ".1/instances/" + a + ".1.1/frames/1"),
                404, "INSTANCE_NOT_FOUND");
        // as the one who may see it, its metadata from the service's root
        assertThat(api.get("/v1/dicomweb/studies/" + a + "/metadata").json().get(0).path("00100020").path("Value")
                .get(0).asString()).isEqualTo("MRN-a" + mark);
    }

    @Test
    @Order(26)
    void a_store_at_the_services_dicomweb_root_files_each_instance_under_the_patient_its_patient_id_names() {
        String mark = Long.toString(System.nanoTime());
        String mrnC = "MRN-c" + mark;
        String mrnD = "MRN-d" + mark;
        String c = api.postJson("/v1/patients", Map.of("name", "Root c", "username", "rootc" + mark,
                "identifier", mrnC, "birthDate", "1960-02-29")).json().path("patientId").asString();
        String d = api.postJson("/v1/patients", Map.of("name", "Root d", "username", "rootd" + mark)).json()
                .path("patientId").asString();
        var given = api.send("PATCH", "/v1/patients/" + d, Map.of("identifier", mrnD));
        assertThat(given.status()).as(given.toString()).isEqualTo(200);
        assertThat(given.json().path("identifier").asString()).isEqualTo(mrnD);
        assertThat(api.get("/v1/patients?identifier=" + mrnC).json().path("items").get(0).path("patientId")
                .asString()).isEqualTo(c);
        String study = "1.2.826.0.1.3680043.2.1125.10." + mark;
        Map<String, String> patientOf = new java.util.LinkedHashMap<>();
        List<Part> parts = new ArrayList<>();
        for (String[] instance : new String[][]{{mrnC, c}, {mrnD, d}, {mrnC, c}}) {
            String uid = study + ".1." + (parts.size() + 1);
            patientOf.put(uid, instance[1]);
            // the first of c's files carries c's date of birth, the other none
            TestDicom file = TestDicom.ctSlice(8, 8).string(0x00100020, "LO", instance[0])
                    .string(0x0020000D, "UI", study).string(0x00080018, "UI", uid);
            parts.add(Part.bytes(null, null, "application/dicom", (parts.isEmpty()
                    ? file.string(0x00100030, "DA", "19600229") : file).toBytes()));
        }

        var stored = api.postRelated("/v1/dicomweb/studies", "application/dicom", parts);

        assertThat(stored.status()).as(stored.toString()).isEqualTo(200);
        assertThat(stored.json().path("00081199").path("Value").valueStream()
                .map(item -> item.path("00081155").path("Value").get(0).asString()).toList())
                .containsExactlyElementsOf(patientOf.keySet());
        for (var instance : patientOf.entrySet()) {
            String search = "/v1/images?sopInstanceUid=" + instance.getKey();
            await().atMost(Duration.ofSeconds(60)).until(() -> api.get(search).json().path("items").size() == 1);
            assertThat(api.get(search).json().path("items").get(0).path("patientId").asString())
                    .isEqualTo(instance.getValue());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=image.store-instances&patientId="
                + c).json().path("items").size() == 1);

        // refused whole, nothing kept: a Patient ID that is no patient's, none at all, a clinician's ungranted one
        long before = countImages();
        Part unknown = Part.bytes(null, null, "application/dicom", TestDicom.ctSlice(8, 8)
                .string(0x00100020, "LO", "MRN-x" + mark).toBytes());
        var refused = api.postRelated("/v1/dicomweb/studies", "application/dicom", List.of(parts.get(0), unknown));
        expectProblem(refused, 422, "UNKNOWN_PATIENT_ID");
        assertThat(refused.json().path("detail").asString()).startsWith("Part 2: its Patient ID (0010,0020) is no");
        var none = api.postRelated("/v1/dicomweb/studies", "application/dicom", List.of(Part.bytes(null, null,
                "application/dicom", TestDicom.ctSlice(8, 8).string(0x00100020, "LO", " ").toBytes())));
        expectProblem(none, 422, "UNKNOWN_PATIENT_ID");
        assertThat(none.json().path("detail").asString()).startsWith("Part 1 has no Patient ID");
        TestHttp alice = api.withToken(stack.token("alice"));
        expectProblem(alice.postRelated("/v1/dicomweb/studies", "application/dicom", List.of(parts.get(1))), 422,
                "UNKNOWN_PATIENT_ID");
        // c's Patient ID with another date of birth: the file or c's record is wrong
        var mismatched = api.postRelated("/v1/dicomweb/studies", "application/dicom", List.of(parts.get(1),
                Part.bytes(null, null, "application/dicom", TestDicom.ctSlice(8, 8).string(0x00100020, "LO", mrnC)
                        .string(0x00100030, "DA", "19600301").toBytes())));
        expectProblem(mismatched, 422, "PATIENT_MISMATCH");
        assertThat(mismatched.json().path("detail").asString()).startsWith("Part 2: its Patient's Birth Date");
        assertThat(countImages()).isEqualTo(before);
        await().atMost(Duration.ofSeconds(30)).until(() -> stagedFiles().stream().noneMatch(n -> n.endsWith(".part")));
        // an identifier names one live patient
        expectProblem(api.send("PATCH", "/v1/patients/" + c, Map.of("identifier", mrnD)), 409, "IDENTIFIER_TAKEN");
    }

    /** The parts of a multipart/related answer of DICOM files (each as stored, explicit VR little endian here). */
    private static List<byte[]> relatedParts(TestHttp.Answer answer) {
        return relatedParts(answer, "application/dicom; transfer-syntax=" + TestDicom.EXPLICIT_LITTLE);
    }

    /** The parts of a multipart/related answer, each of this content type. */
    private static List<byte[]> relatedParts(TestHttp.Answer answer, String partType) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        String boundary = answer.contentType().replaceAll(".*boundary=([^;]+).*", "$1");
        String body = new String(answer.bytes(), StandardCharsets.ISO_8859_1);
        String open = "--" + boundary + "\r\n";
        String close = "\r\n--" + boundary + "--\r\n";
        assertThat(body).startsWith(open).endsWith(close);
        List<byte[]> parts = new ArrayList<>();
        for (String part : body.substring(open.length(), body.length() - close.length())
                .split(java.util.regex.Pattern.quote("\r\n--" + boundary + "\r\n"))) {
            int headers = part.indexOf("\r\n\r\n");
            assertThat(part.substring(0, headers)).isEqualTo("Content-Type: " + partType);
            parts.add(part.substring(headers + 4).getBytes(StandardCharsets.ISO_8859_1));
        }
        return parts;
    }

    private static long countImages() {
        long count = 0;
        String cursor = null;
        do {
            JsonNode page = api.get("/v1/patients/" + patientId + "/images?limit=500"
                    + (cursor == null ? "" : "&cursor=" + cursor)).json();
            count += page.path("items").size();
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        return count;
    }

    /** A ZIP of the entries in order; a null value is a folder. */
    private static byte[] zip(Map<String, byte[]> entries) throws IOException {
        var bytes = new java.io.ByteArrayOutputStream();
        try (var zip = new java.util.zip.ZipOutputStream(bytes)) {
            for (var entry : entries.entrySet()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(entry.getKey()));
                if (entry.getValue() != null) {
                    zip.write(entry.getValue());
                }
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static String base64Digest(String algorithm, byte[] bytes) throws Exception {
        return java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance(algorithm).digest(bytes));
    }

    @Test
    @Order(18)
    void a_file_sent_as_parts_in_parallel_becomes_one_upload_in_their_order_and_the_parts_go() throws Exception {
        String create = "/v1/patients/" + patientId + "/uploads";
        byte[] content = randomBytes(2 * 1024 * 1024 + 5);
        int[] cuts = {0, 700_000, 1_500_000, content.length};
        // the parts at once, each in its creation request, as tus-js-client's parallelUploads sends them
        List<CompletableFuture<HttpResponse<byte[]>>> sending = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] part = Arrays.copyOfRange(content, cuts[i], cuts[i + 1]);
            sending.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return tus(stack.adminToken, "POST", create, part, "Upload-Length", Integer.toString(part.length),
                            "Upload-Concat", "partial");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        List<String> parts = new ArrayList<>();
        for (var sent : sending) {
            HttpResponse<byte[]> part = sent.join();
            assertThat(part.statusCode()).as(new String(part.body(), StandardCharsets.UTF_8)).isEqualTo(201);
            assertThat(part.headers().firstValue("Upload-Concat")).hasValue("partial");
            assertThat(new String(part.body(), StandardCharsets.UTF_8)).as("a part is never accepted by itself")
                    .contains("\"status\":\"RECEIVED\"").doesNotContain("jobId");
            parts.add(part.headers().firstValue("Location").orElseThrow());
        }

        // a part still being sent, or a plain upload, cannot be concatenated
        String unfinished = tus(stack.adminToken, "POST", create, null, "Upload-Length", "10", "Upload-Concat",
                "partial").headers().firstValue("Location").orElseThrow();
        HttpResponse<byte[]> early = tus(stack.adminToken, "POST", create, null, "Upload-Concat",
                "final;" + parts.get(0) + " " + unfinished);
        assertThat(early.statusCode()).isEqualTo(400);
        assertThat(new String(early.body(), StandardCharsets.UTF_8)).contains("PARTIAL_UPLOAD_INCOMPLETE");
        String plain = Tus.create(gateway, stack.adminToken, patientId, 10);
        HttpResponse<byte[]> notAPart = tus(stack.adminToken, "POST", create, null, "Upload-Concat",
                "final;" + parts.get(0) + " " + plain);
        assertThat(notAPart.statusCode()).isEqualTo(400);
        assertThat(new String(notAPart.body(), StandardCharsets.UTF_8)).contains("INVALID_UPLOAD_CONCAT");
        assertThat(tus(stack.token("alice"), "POST", create, null, "Upload-Concat", "final;" + String.join(" ", parts))
                .statusCode()).as("another user's parts are not there for her").isEqualTo(404);
        assertThat(tus(stack.adminToken, "HEAD", parts.get(0), null).statusCode()).as("refusals change nothing")
                .isEqualTo(200);

        // the final upload: the parts in their order (an absolute URL or a path), accepted at once
        HttpResponse<byte[]> concatenated = tus(stack.adminToken, "POST", create, null, "Upload-Concat",
                "final;" + gateway.url() + parts.get(0) + " " + parts.get(1) + " " + parts.get(2),
                "Upload-Metadata", "filename " + Tus.base64("series.bin") + ",tags " + Tus.base64("parallel"));
        assertThat(concatenated.statusCode()).as(new String(concatenated.body(), StandardCharsets.UTF_8))
                .isEqualTo(201);
        assertThat(concatenated.headers().firstValue("Upload-Length")).hasValue(Integer.toString(content.length));
        assertThat(concatenated.headers().firstValue("Upload-Offset")).hasValue(Integer.toString(content.length));
        assertThat(concatenated.headers().firstValue("Upload-Concat")).hasValue("final;" + String.join(" ", parts));
        JsonNode accepted = tools.jackson.databind.json.JsonMapper.builder().build().readTree(concatenated.body());
        assertThat(accepted.path("status").asString()).isEqualTo("ACCEPTED");
        awaitSucceeded(accepted.path("jobId").asString());
        JsonNode image = api.get("/v1/images/" + accepted.path("imageId").asString()).json();
        assertThat(image.path("sha256").asString()).isEqualTo(sha256(content));
        assertThat(image.path("originalFilename").asString()).isEqualTo("series.bin");
        assertThat(image.path("tags").toString()).contains("parallel");
        for (String part : parts) {
            assertThat(tus(stack.adminToken, "HEAD", part, null).statusCode()).as("the parts go").isEqualTo(404);
        }

        // bytes of a refused type at the file's start refuse it, and nothing of it stays
        byte[] html = "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8);
        String htmlPart = tus(stack.adminToken, "POST", create, html, "Upload-Length", Integer.toString(html.length),
                "Upload-Concat", "partial").headers().firstValue("Location").orElseThrow();
        String tail = tus(stack.adminToken, "POST", create, new byte[] {1, 2, 3}, "Upload-Length", "3",
                "Upload-Concat", "partial").headers().firstValue("Location").orElseThrow();
        List<String> before = resumableFiles();
        HttpResponse<byte[]> refused = tus(stack.adminToken, "POST", create, null, "Upload-Concat",
                "final;" + htmlPart + " " + tail);
        assertThat(refused.statusCode()).isEqualTo(415);
        assertThat(resumableFiles()).isSubsetOf(before).noneMatch(f -> f.startsWith(htmlPart.substring(12)));
    }

    @Test
    @Order(19)
    void an_object_changed_or_lost_in_the_store_is_found_by_its_integrity_check_asked_for_or_scheduled() throws Exception {
        byte[] content = randomBytes(300_000);
        String imageId = upload("/v1/patients/" + patientId + "/images", "fixity.bin", content, "Fixity", List.of("fixity"));
        assertThat(integrity(imageId).path("status").asString()).isEqualTo("UNCHECKED");
        assertThat(checkIntegrity(imageId)).isEqualTo("INTACT");

        // the object's bytes change in the store, behind the service's back: one bit
        String key = "images/" + imageId + "/original";
        byte[] changed = content.clone();
        changed[150_000] ^= 1;
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(changed));
        assertThat(checkIntegrity(imageId)).isEqualTo("CORRUPT");
        // an archive never hands it out whole: the download ends unfinished once its bytes are found to differ
        String archive = "/v1/patients/" + patientId + "/images/archive?tag=fixity";
        assertThatThrownBy(() -> api.get(archive)).isInstanceOf(java.io.UncheckedIOException.class);
        assertThat(ids("/v1/images?integrity=CORRUPT")).containsExactly(imageId);
        assertThat(ids("/v1/patients/" + patientId + "/images?integrity=INTACT")).doesNotContain(imageId);
        await().atMost(Duration.ofSeconds(20)).until(() -> metrics(stack.metadata).contains("images_integrity_failed 1.0"));
        assertThat(metrics(stack.workers.get(0))).contains("integrity_checks_total{outcome=\"CORRUPT\"} 1.0");

        stack.s3Client().deleteObject(b -> b.bucket(BUCKET).key(key));
        assertThat(checkIntegrity(imageId)).isEqualTo("MISSING");
        expectProblem(api.get(archive), 500, "STORED_IMAGE_DAMAGED");

        // put back from a backup: nobody asks, but the image is due again (its last check moved 31 days back),
        // and the schedule has it checked and found intact
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(content));
        String lastChecked = integrity(imageId).path("checkedAt").asString();
        try (Connection c = DriverManager.getConnection(stack.postgres.jdbcUrl(TestStack.DATABASE), "postgres", "");
             var moveBack = c.prepareStatement(
                     "update images set integrity_checked_at = integrity_checked_at - interval '31 days' where id = ?")) {
            moveBack.setObject(1, UUID.fromString(imageId));
            assertThat(moveBack.executeUpdate()).isEqualTo(1);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> integrity(imageId).path("status").asString().equals("INTACT"));
        assertThat(Instant.parse(integrity(imageId).path("checkedAt").asString())).isAfter(Instant.parse(lastChecked));
        await().atMost(Duration.ofSeconds(20)).until(() -> metrics(stack.metadata).contains("images_integrity_failed 0.0"));
        assertThat(sha256(api.get(api.get("/v1/images/" + imageId + "/content").header("Location")).bytes()))
                .isEqualTo(sha256(content));
        assertThat(unzip(api.get(archive).bytes()).get(imageId + "-fixity.bin")).isEqualTo(content);

        expectProblem(api.send("POST", "/v1/images/" + UUID.randomUUID() + "/integrity-checks", null), 404,
                "IMAGE_NOT_FOUND");
    }

    @Test
    @Order(20)
    void an_admin_s_webhook_is_sent_each_change_of_an_upload_signed_through_the_whole_stack() {
        try (WebhookReceiver receiver = new WebhookReceiver()) {
            String patient = api.postJson("/v1/patients", Map.of("name", "Hook Patient", "username", "hooked"))
                    .json().path("patientId").asString();
            var created = api.postJson("/v1/webhooks", Map.of("url", receiver.url("/pacs"), "patientId", patient));
            assertThat(created.status()).as(created.toString()).isEqualTo(201);
            String webhookId = created.json().path("webhookId").asString();
            String secret = created.json().path("secret").asString();
            assertThat(created.header("Location")).isEqualTo("/v1/webhooks/" + webhookId);

            String imageId = upload("/v1/patients/" + patient + "/images", "hooked.bin", randomBytes(10_000), "Hooked",
                    List.of());
            assertThat(api.send("PUT", "/v1/images/" + imageId + "/tags", Map.of("tags", List.of("sent"))).status())
                    .isEqualTo(200);

            await().atMost(Duration.ofSeconds(30)).until(() -> receiver.changes("/pacs").size() >= 2);
            assertThat(receiver.changes("/pacs")).extracting(c -> c.path("type").asString())
                    .containsExactly("AVAILABLE", "UPDATED");
            assertThat(receiver.changes("/pacs")).extracting(c -> c.path("imageId").asString()).containsOnly(imageId);
            assertThat(receiver.requests("/pacs")).allMatch(request -> request.signedWith(secret));
            await().atMost(Duration.ofSeconds(10)).until(() -> !api.get("/v1/webhooks/" + webhookId).json()
                    .path("delivery").path("deliveredAt").isNull());
            assertThat(api.get("/v1/webhooks").json().path("items")).extracting(w -> w.path("webhookId").asString())
                    .contains(webhookId);
            JsonNode test = api.send("POST", "/v1/webhooks/" + webhookId + "/test", null).json();
            assertThat(test.path("delivered").asBoolean()).as(test.toString()).isTrue();
            assertThat(receiver.requests("/pacs")).anyMatch(r -> r.json().path("type").asString().equals("webhook.test"));
            var rotated = api.send("POST", "/v1/webhooks/" + webhookId + "/rotate-secret", null);
            assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
            assertThat(rotated.json().path("secret").asString()).startsWith("whsec_").isNotEqualTo(secret);
            var resumed = api.send("POST", "/v1/webhooks/" + webhookId + "/resume", null);
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
            assertThat(resumed.json().path("delivery").path("status").asString()).isEqualTo("ACTIVE");
            assertThat(resumed.json().has("secret")).isFalse();
            await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=webhook.resume").json()
                    .path("items").findValuesAsString("resourceId").contains(webhookId));
            assertThat(api.send("DELETE", "/v1/webhooks/" + webhookId, null).status()).isEqualTo(204);
            expectProblem(api.get("/v1/webhooks/" + webhookId), 404, "WEBHOOK_NOT_FOUND");
            await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=webhook.delete").json()
                    .path("items").findValuesAsString("resourceId").contains(webhookId));
            assertThat(api.get("/v1/audit?action=webhook.create&patientId=" + patient).json().path("items")).hasSize(1);
            // a place the service must not send to
            expectProblem(api.postJson("/v1/webhooks", Map.of("url", "http://169.254.169.254/latest/meta-data")),
                    400, "INVALID_WEBHOOK");
        }
    }

    @Test
    @Order(22)
    void objects_that_no_image_owns_are_reported_page_by_page_and_the_images_objects_are_not() {
        // as a database restored to an earlier point leaves them: an image's objects without its row, and a
        // prefix that names no image
        String lost = UUID.randomUUID().toString();
        byte[] original = randomBytes(3000);
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key("images/" + lost + "/original"),
                RequestBody.fromBytes(original));
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key("images/" + lost + "/thumbnail.png"),
                RequestBody.fromBytes(new byte[10]));
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key("images/not-an-image/x"), RequestBody.fromBytes(new byte[1]));
        long prefixes = stack.s3Client().listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix("images/").delimiter("/"))
                .commonPrefixes().stream().count();
        assertThat(prefixes).as("the earlier tests' images and the two").isGreaterThan(10);

        OrphanReport report = orphanReport();
        assertThat(report.prefixesChecked()).as("every prefix, once").isEqualTo(prefixes);
        Map<String, JsonNode> orphans = report.orphans();
        assertThat(orphans).containsKeys("images/" + lost + "/", "images/not-an-image/");
        JsonNode found = orphans.get("images/" + lost + "/");
        assertThat(found.path("imageId").asString()).isEqualTo(lost);
        assertThat(found.path("uploadedFor").isNull()).as("its original names no patient").isTrue();
        List<String> objects = new ArrayList<>();
        found.path("objects").forEach(o -> objects.add(o.path("key").asString() + " " + o.path("sizeBytes").asLong()));
        assertThat(objects).containsExactly("images/" + lost + "/original 3000", "images/" + lost + "/thumbnail.png 10");
        assertThat(orphans.get("images/not-an-image/").path("imageId").isNull()).isTrue();
        // no image of the service is one: each orphan's id is unknown to it
        orphans.values().stream().filter(o -> !o.path("imageId").isNull()).forEach(o ->
                expectProblem(api.get("/v1/images/" + o.path("imageId").asString()), 404, "IMAGE_NOT_FOUND"));

        expectProblem(api.get("/v1/storage/orphans?limit=0"), 400, "INVALID_LIMIT");
        expectProblem(api.get("/v1/storage/orphans?cursor=not!base64"), 400, "INVALID_CURSOR");

        // bytes that are no one's are removed, with the parts of an upload left unfinished under the prefix
        stack.s3Client().createMultipartUpload(b -> b.bucket(BUCKET).key("images/" + lost + "/original"));
        assertThat(stack.s3Client().listMultipartUploads(b -> b.bucket(BUCKET).prefix("images/" + lost + "/"))
                .uploads()).hasSize(1);
        var removed = api.send("DELETE", "/v1/storage/orphans/" + lost, null);
        assertThat(removed.status()).as(removed.toString()).isEqualTo(204);
        assertThat(stack.s3Client().listObjectsV2(b -> b.bucket(BUCKET).prefix("images/" + lost + "/")).contents())
                .isEmpty();
        assertThat(stack.s3Client().listMultipartUploads(b -> b.bucket(BUCKET).prefix("images/" + lost + "/"))
                .uploads()).isEmpty();
        expectProblem(api.send("DELETE", "/v1/storage/orphans/" + lost, null), 404, "ORPHAN_NOT_FOUND");
        // an image's objects are not orphans: deleting or purging the image removes them
        String owned = upload("/v1/patients/" + patientId + "/images", "owned.bin", randomBytes(100), "Owned",
                List.of());
        expectProblem(api.send("DELETE", "/v1/storage/orphans/" + owned, null), 409, "IMAGE_EXISTS");
        assertThat(stack.s3Client().listObjectsV2(b -> b.bucket(BUCKET).prefix("images/" + owned + "/")).contents())
                .isNotEmpty();
        expectProblem(api.send("DELETE", "/v1/storage/orphans/not-an-image", null), 404, "ORPHAN_NOT_FOUND");
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=storage.orphan-delete").json()
                .path("items").findValuesAsString("resourceId").contains(lost));
        stack.s3Client().deleteObject(b -> b.bucket(BUCKET).key("images/not-an-image/x"));
    }

    /** The orphans of the whole bucket, by prefix, read 4 prefixes a page, and how many prefixes the pages covered. */
    private record OrphanReport(Map<String, JsonNode> orphans, long prefixesChecked) {
    }

    private static OrphanReport orphanReport() {
        Map<String, JsonNode> orphans = new java.util.HashMap<>();
        long checked = 0;
        String cursor = null;
        do {
            var page = api.get("/v1/storage/orphans?limit=4" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(page.status()).as(page.toString()).isEqualTo(200);
            page.json().path("items").forEach(orphan -> orphans.put(orphan.path("prefix").asString(), orphan));
            checked += page.json().path("prefixesChecked").asLong();
            cursor = page.json().path("nextCursor").isNull() ? null : page.json().path("nextCursor").asString();
        } while (cursor != null);
        return new OrphanReport(orphans, checked);
    }

    @Test
    @Order(23)
    void an_image_whose_record_was_lost_is_reported_with_its_patient_and_adopted_back_checked_and_derived()
            throws Exception {
        String patient = api.postJson("/v1/patients", Map.of("name", "Before Restore", "username", "beforerestore"))
                .json().path("patientId").asString();
        byte[] png = TestImages.aPngImage(320, 200);
        String image = upload("/v1/patients/" + patient + "/images", "scan.png", png, "Stored after the backup",
                List.of("ct"));
        // as PostgreSQL restored to a point before the upload leaves it: the objects, and no record of them
        try (Connection c = DriverManager.getConnection(stack.postgres.jdbcUrl(TestStack.DATABASE), "postgres", "")) {
            for (String forget : List.of(
                    "delete from job_events where job_id in (select id from jobs where image_id = ?)",
                    "delete from jobs where image_id = ?", "delete from image_changes where image_id = ?",
                    "delete from images where id = ?")) {
                try (var statement = c.prepareStatement(forget)) {
                    statement.setObject(1, UUID.fromString(image));
                    statement.executeUpdate();
                }
            }
        }
        expectProblem(api.get("/v1/images/" + image), 404, "IMAGE_NOT_FOUND");
        JsonNode orphan = orphanReport().orphans().get("images/" + image + "/");
        assertThat(orphan).as("reported").isNotNull();
        assertThat(orphan.path("uploadedFor").asString()).isEqualTo(patient);
        String cursor = api.get("/v1/changes?start=latest").json().path("nextCursor").asString();

        var adopted = api.postJson("/v1/storage/orphans/" + image + "/adopt", Map.of());
        assertThat(adopted.status()).as(adopted.toString()).isEqualTo(201);
        assertThat(adopted.header("Location")).isEqualTo("/v1/images/" + image);
        assertThat(adopted.json().path("patientId").asString()).isEqualTo(patient);
        assertThat(adopted.json().path("status").asString()).isEqualTo("AVAILABLE");
        assertThat(adopted.json().path("sizeBytes").asLong()).isEqualTo(png.length);
        assertThat(adopted.json().path("sha256").asString()).isEqualTo(sha256(png));
        assertThat(adopted.json().path("contentType").asString()).isEqualTo("image/png");
        assertThat(adopted.json().has("objectKey")).as("the object's key stays hidden").isFalse();
        // a worker reads the bytes back, finds them intact and derives the attributes and the thumbnail again
        await().atMost(Duration.ofSeconds(60)).until(() ->
                api.get("/v1/images/" + image).json().path("derivation").path("requestedAt").isNull());
        JsonNode restored = api.get("/v1/images/" + image).json();
        assertThat(restored.path("integrity").path("status").asString()).isEqualTo("INTACT");
        assertThat(restored.path("attributes").path("width").asInt()).isEqualTo(320);
        assertThat(restored.path("hasThumbnail").asBoolean()).isTrue();
        assertThat(api.get(api.get("/v1/images/" + image + "/content").header("Location")).bytes()).isEqualTo(png);
        assertThat(ids("/v1/patients/" + patient + "/images")).containsExactly(image);
        assertThat(api.get("/v1/changes?cursor=" + cursor).json().path("items").findValuesAsString("imageId"))
                .contains(image);
        assertThat(orphanReport().orphans()).doesNotContainKey("images/" + image + "/");
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=storage.adopt").json()
                .path("items").findValuesAsString("resourceId").contains(image));

        expectProblem(api.postJson("/v1/storage/orphans/" + image + "/adopt", Map.of()), 409, "IMAGE_EXISTS");
        expectProblem(api.postJson("/v1/storage/orphans/" + UUID.randomUUID() + "/adopt", Map.of()), 404,
                "ORPHAN_NOT_FOUND");
        expectProblem(api.postJson("/v1/storage/orphans/not-an-id/adopt", Map.of()), 404, "ORPHAN_NOT_FOUND");
        // an original that names no patient is adopted by naming one; one without a SHA-256 is not this service's
        String unnamed = UUID.randomUUID().toString();
        byte[] bytes = randomBytes(5000);
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key("images/" + unnamed + "/original")
                .contentType("application/octet-stream").metadata(Map.of("sha256", sha256(bytes))),
                RequestBody.fromBytes(bytes));
        expectProblem(api.postJson("/v1/storage/orphans/" + unnamed + "/adopt", Map.of()), 400, "MISSING_PATIENT_ID");
        expectProblem(api.postJson("/v1/storage/orphans/" + unnamed + "/adopt",
                Map.of("patientId", UUID.randomUUID().toString())), 404, "PATIENT_NOT_FOUND");
        var named = api.postJson("/v1/storage/orphans/" + unnamed + "/adopt", Map.of("patientId", patient));
        assertThat(named.status()).as(named.toString()).isEqualTo(201);
        assertThat(named.json().path("sizeBytes").asLong()).isEqualTo(5000);
        await().atMost(Duration.ofSeconds(60)).until(() -> api.get("/v1/images/" + unnamed).json()
                .path("integrity").path("status").asString().equals("INTACT"));
        String foreign = UUID.randomUUID().toString();
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key("images/" + foreign + "/original"),
                RequestBody.fromBytes(bytes));
        expectProblem(api.postJson("/v1/storage/orphans/" + foreign + "/adopt", Map.of("patientId", patient)), 409,
                "ORPHAN_NOT_ADOPTABLE");
        assertThat(api.send("DELETE", "/v1/storage/orphans/" + foreign, null).status()).isEqualTo(204);
    }

    @Test
    @Order(21)
    void images_stored_before_the_workers_read_their_format_are_derived_again_one_by_one_or_by_content_type()
            throws Exception {
        String patient = api.postJson("/v1/patients", Map.of("name", "Old Archive", "username", "oldarchive"))
                .json().path("patientId").asString();
        String images = "/v1/patients/" + patient + "/images";
        byte[] pngBytes = TestImages.aPngImage(400, 300);
        String png = upload(images, "scan.png", pngBytes, "Old scan", List.of());
        String pdf = upload(images, "report.pdf", TestPdf.report().pages(3).toBytes(), "Old report", List.of());
        // as a version that read neither format left them: no attributes, no thumbnail
        try (Connection c = DriverManager.getConnection(stack.postgres.jdbcUrl(TestStack.DATABASE), "postgres", "");
             var forget = c.prepareStatement("update images set attributes = '{}', thumbnail_key = null where id = ?")) {
            for (String id : List.of(png, pdf)) {
                forget.setObject(1, UUID.fromString(id));
                assertThat(forget.executeUpdate()).isEqualTo(1);
                stack.s3Client().deleteObject(b -> b.bucket(BUCKET).key("images/" + id + "/thumbnail.png"));
            }
        }
        assertThat(api.get("/v1/images/" + png).json().path("hasThumbnail").asBoolean()).isFalse();
        String cursor = api.get("/v1/changes?start=latest").json().path("nextCursor").asString();

        // one image, asked for by an admin: read back, checked, its attributes and thumbnail made again
        var asked = api.send("POST", "/v1/images/" + png + "/derivations", null);
        assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
        assertThat(asked.header("Location")).isEqualTo("/v1/images/" + png);
        Instant requestedAt = Instant.parse(asked.json().path("derivation").path("requestedAt").asString());
        await().atMost(Duration.ofSeconds(60)).until(() ->
                api.get("/v1/images/" + png).json().path("derivation").path("requestedAt").isNull());
        JsonNode derived = api.get("/v1/images/" + png).json();
        assertThat(derived.path("attributes").path("width").asInt()).isEqualTo(400);
        assertThat(derived.path("hasThumbnail").asBoolean()).isTrue();
        assertThat(derived.path("integrity").path("status").asString()).isEqualTo("INTACT");
        assertThat(Instant.parse(derived.path("derivation").path("derivedAt").asString())).isAfterOrEqualTo(requestedAt);
        var thumbnail = api.get(api.get("/v1/images/" + png + "/thumbnail").header("Location"));
        assertThat(javax.imageio.ImageIO.read(new ByteArrayInputStream(thumbnail.bytes())).getWidth()).isEqualTo(256);
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=image.derive").json()
                .path("items").findValuesAsString("resourceId").contains(png));

        // many, by content type: the patient's PDFs without a thumbnail (the PNG above has its own now)
        var many = api.send("POST", "/v1/images/derivations?contentType=application/pdf&withoutThumbnail=true"
                + "&patientId=" + patient, null);
        assertThat(many.status()).as(many.toString()).isEqualTo(202);
        assertThat(many.json().path("requested").asInt()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(60)).until(() ->
                api.get("/v1/images/" + pdf).json().path("hasThumbnail").asBoolean());
        assertThat(api.get("/v1/images/" + pdf).json().path("attributes").path("pdf").path("pages").asInt()).isEqualTo(3);
        await().atMost(Duration.ofSeconds(10)).until(() -> api.get("/v1/audit?action=image.derive-all&patientId="
                + patient).json().path("items").size() == 1);
        var again = api.send("POST", "/v1/images/derivations?contentType=application/pdf&withoutThumbnail=true", null);
        assertThat(again.json().path("requested").asInt()).as("every PDF has its thumbnail now").isZero();

        // clients following the feed hear of both
        JsonNode changes = api.get("/v1/changes?patientId=" + patient + "&cursor=" + cursor).json();
        assertThat(StreamSupport.stream(changes.path("items").spliterator(), false)
                .filter(c -> c.path("type").asString().equals("UPDATED")).map(c -> c.path("imageId").asString()))
                .containsExactlyInAnyOrder(png, pdf);

        // bytes changed in the store behind the service's back: found CORRUPT, and nothing is derived from them
        String derivedAt = api.get("/v1/images/" + png).json().path("derivation").path("derivedAt").asString();
        String key = "images/" + png + "/original";
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(TestImages.aPngImage(200, 100)));
        assertThat(api.send("POST", "/v1/images/" + png + "/derivations", null).status()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() ->
                api.get("/v1/images/" + png).json().path("derivation").path("requestedAt").isNull());
        JsonNode changedBehind = api.get("/v1/images/" + png).json();
        assertThat(changedBehind.path("integrity").path("status").asString()).isEqualTo("CORRUPT");
        assertThat(changedBehind.path("attributes").path("width").asInt()).isEqualTo(400);
        assertThat(changedBehind.path("derivation").path("derivedAt").asString()).isEqualTo(derivedAt);
        stack.s3Client().putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(pngBytes));
        assertThat(checkIntegrity(png)).isEqualTo("INTACT");

        expectProblem(api.send("POST", "/v1/images/derivations?contentType=image/*", null), 400, "INVALID_CONTENT_TYPE");
        expectProblem(api.send("POST", "/v1/images/derivations?withoutThumbnail=maybe", null), 400, "INVALID_PARAMETER");
        expectProblem(api.send("POST", "/v1/images/" + UUID.randomUUID() + "/derivations", null), 404, "IMAGE_NOT_FOUND");
    }

    private static JsonNode integrity(String imageId) {
        return api.get("/v1/images/" + imageId).json().path("integrity");
    }

    /** Asks for an image's integrity check and waits for its answer; the outcome. */
    private static String checkIntegrity(String imageId) {
        var asked = api.send("POST", "/v1/images/" + imageId + "/integrity-checks", null);
        assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
        assertThat(asked.header("Location")).isEqualTo("/v1/images/" + imageId);
        Instant requestedAt = Instant.parse(asked.json().path("integrity").path("checkRequestedAt").asString());
        await().atMost(Duration.ofSeconds(60)).until(() -> integrity(imageId).path("checkRequestedAt").isNull());
        JsonNode integrity = integrity(imageId);
        assertThat(Instant.parse(integrity.path("checkedAt").asString())).isAfterOrEqualTo(requestedAt);
        return integrity.path("status").asString();
    }

    private static HttpResponse<byte[]> tus(String token, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        return Tus.send(gateway, token, method, path, body, headers);
    }

    private static List<String> resumableFiles() throws IOException {
        try (var files = Files.list(TestStack.resumableDirectory(staging))) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** The entries of a ZIP archive, in order, read as a client streams it. */
    private static Map<String, byte[]> unzip(byte[] archive) throws IOException {
        Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        try (var zip = new java.util.zip.ZipInputStream(new ByteArrayInputStream(archive))) {
            for (var entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                entries.put(entry.getName(), zip.readAllBytes());
            }
        }
        return entries;
    }

    private static void expectProblem(TestHttp.Answer answer, int status, String code) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(status);
        assertThat(answer.contentType()).isEqualTo("application/problem+json");
        JsonNode problem = answer.json();
        assertThat(problem.path("code").asString()).isEqualTo(code);
        assertThat(problem.path("status").asInt()).isEqualTo(status);
        assertThat(problem.path("detail").asString()).isNotBlank();
        assertThat(problem.path("instance").asString()).startsWith("/v1/");
        assertThat(problem.has("retryable")).isTrue();
        assertThat(answer.header("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    private static List<String> stagedFiles() {
        try (var files = Files.list(staging)) {
            return files.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] readHead(InputStream in) throws IOException {
        var head = new java.io.ByteArrayOutputStream();
        int matched = 0;
        for (int b; (b = in.read()) >= 0; ) {
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                break;
            }
        }
        return head.toByteArray();
    }

    private static List<String> studyUids(JsonNode studies) {
        List<String> uids = new ArrayList<>();
        studies.forEach(study -> uids.add(study.path("0020000D").path("Value").get(0).asString()));
        return uids;
    }

}
