package org.patientimages.e2e;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.patientimages.localstack.testing.TestHttp;
import org.patientimages.localstack.testing.TestHttp.Part;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.patientimages.e2e.Fixtures.randomBytes;
import static org.patientimages.e2e.Fixtures.sha256;
import static org.awaitility.Awaitility.await;

/**
 * The fault catalogue of reliability.md against the real services as processes: kill -9, a frozen (zombie)
 * worker, the object store and the metadata-service going away and coming back, poison records, a full
 * replay of the topics and racing duplicates. After each fault every invariant is checked.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultToleranceIT {

    static final String[] WORKER_TUNING = {
            "--patient-images.worker.retry-initial=500ms",
            "--patient-images.worker.retry-max-interval=2s",
            "--patient-images.worker.retry-for=3m",
            "--spring.kafka.consumer.properties.session.timeout.ms=6000",
            "--spring.kafka.consumer.properties.heartbeat.interval.ms=2000"};

    static TestStack stack;
    static TestHttp api;
    static Invariants invariants;
    static String patientId;
    static ServiceProcess worker;
    /** Every job this class had accepted, with the SHA-256 of its file. */
    static final Map<String, String> accepted = new ConcurrentHashMap<>();

    @BeforeAll
    static void startStack() {
        stack = TestStack.start(64L * 1024 * 1024);
        api = stack.api;
        invariants = new Invariants(stack);
        worker = stack.startWorker(WORKER_TUNING);
        patientId = api.postJson("/v1/patients", Map.of("name", "Fault Tolerance", "username", "faults"))
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
    void concurrent_duplicate_uploads_with_one_idempotency_key_make_one_job() throws Exception {
        byte[] content = randomBytes(200_000);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<CompletableFuture<TestHttp.Answer>> answers = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                answers.add(CompletableFuture.supplyAsync(() -> api.postMultipart("/v1/patients/" + patientId + "/images",
                        List.of(Part.bytes("file", "same.bin", "application/octet-stream", content)),
                        "Idempotency-Key", "same-key"), pool));
            }
            Set<String> jobIds = answers.stream().map(CompletableFuture::join)
                    .peek(a -> assertThat(a.status()).as(a.toString()).isEqualTo(202))
                    .map(a -> a.json().path("jobId").asString()).collect(Collectors.toSet());
            assertThat(jobIds).hasSize(1);
            accepted.put(jobIds.iterator().next(), sha256(content));
        } finally {
            pool.shutdownNow();
        }
        awaitAllEnded();
        invariants.check(accepted);
    }

    @Test
    @Order(2)
    void poison_records_are_dead_lettered_and_both_topics_keep_flowing() throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers",
                stack.bootstrapServers), new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>("patient-images.uploads", "poison-1", new byte[] {(byte) 0xff, 1})).get();
            producer.send(new ProducerRecord<>("patient-images.job-events", "poison-2", new byte[] {(byte) 0xfe, 2})).get();
        }
        upload(300_000);
        awaitAllEnded();
        invariants.check(accepted);
        assertThat(endOffsets("patient-images.uploads-dlt")).isPositive();
        assertThat(endOffsets("patient-images.job-events-dlt")).isPositive();
    }

    @Test
    @Order(3)
    void thirty_uploads_in_flight_survive_kill_9_of_the_worker_and_the_metadata_service() throws Exception {
        List<String> jobs = new ArrayList<>();
        worker.pause(); // so that all 30 are in flight when the kills come
        for (int i = 0; i < 30; i++) {
            jobs.add(upload(4 * 1024 * 1024 + i));
        }
        worker.resume();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                .until(() -> jobs.stream().anyMatch(j -> !status(j).equals("QUEUED")));
        worker.kill();
        assertThat(countStatus(jobs, "SUCCEEDED")).as("jobs were still in flight").isLessThan(30);
        stack.metadata.kill();

        stack.metadata.restart();
        TestStack.awaitHealthy(stack.metadata);
        worker.restart();
        TestStack.awaitHealthy(worker);
        awaitAllEnded();
        invariants.check(accepted);
    }

    @Test
    @Order(4)
    void with_the_metadata_service_down_uploads_get_503_and_reported_facts_wait_in_kafka() throws Exception {
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            jobs.add(upload(4 * 1024 * 1024));
        }
        // every upload event is published; the facts the worker reports from now on wait in Kafka
        await().atMost(Duration.ofSeconds(60)).until(() -> jobs.stream().noneMatch(j -> status(j).equals("QUEUED")));
        // two resumable uploads whose last chunks come while nobody can record them
        byte[] resumable = randomBytes(2 * 1024 * 1024);
        byte[] leftAlone = randomBytes(1024 * 1024);
        String upload = Tus.create(stack.gateway, stack.adminToken, patientId, resumable.length);
        String abandoned = Tus.create(stack.gateway, stack.adminToken, patientId, leftAlone.length);
        int first = resumable.length - 1000;
        assertThat(Tus.send(stack.gateway, stack.adminToken, "PATCH", upload, Arrays.copyOfRange(resumable, 0, first),
                "Upload-Offset", "0").statusCode()).isEqualTo(204);
        stack.metadata.kill();
        var last = Tus.send(stack.gateway, stack.adminToken, "PATCH", upload,
                Arrays.copyOfRange(resumable, first, resumable.length), "Upload-Offset", Integer.toString(first));
        assertThat(last.statusCode()).as(new String(last.body(), StandardCharsets.UTF_8)).isEqualTo(503);
        assertThat(Tus.send(stack.gateway, stack.adminToken, "PATCH", abandoned, leftAlone, "Upload-Offset", "0")
                .statusCode()).isEqualTo(503);
        Path received = TestStack.resumableDirectory(stack.staging)
                .resolve(upload.substring("/v1/uploads/".length()) + ".bin");
        assertThat(java.nio.file.Files.size(received)).as("every byte kept").isEqualTo(resumable.length);
        TestHttp.Answer refused = api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "x.bin", "application/octet-stream", randomBytes(1000))));
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.contentType()).isEqualTo("application/problem+json");
        assertThat(refused.json().path("retryable").asBoolean()).isTrue();
        assertThat(refused.header("Retry-After")).isNotBlank();
        // the worker goes on storing and reporting while nobody records
        await().atMost(Duration.ofSeconds(60)).until(() -> jobs.stream()
                .noneMatch(j -> java.nio.file.Files.exists(stack.staging.resolve(j))));

        stack.metadata.restart();
        TestStack.awaitHealthy(stack.metadata);
        // the client sends the end again (nothing more): now the upload is recorded, once. The gateway's sweep
        // may be recording it at that moment (it was left alone past accept-after): then the answer is 423, and
        // the client tries again, as tus clients do
        var retried = await().atMost(Duration.ofSeconds(30)).until(() -> Tus.send(stack.gateway, stack.adminToken,
                "PATCH", upload, new byte[0], "Upload-Offset", Integer.toString(resumable.length)),
                answer -> answer.statusCode() != 423);
        assertThat(retried.statusCode()).as(new String(retried.body(), StandardCharsets.UTF_8)).isEqualTo(204);
        String resumedJob = api.get(upload).json().path("jobId").asString();
        assertThat(retried.headers().allValues("Link")).contains("</v1/jobs/" + resumedJob + ">; rel=\"job\"");
        accepted.put(resumedJob, sha256(resumable));
        assertThat(received).doesNotExist();
        // the other one's client took "every byte sent" as done: only the gateway's sweep can record it
        await().atMost(Duration.ofSeconds(30)).until(() ->
                api.get(abandoned).json().path("status").asString().equals("ACCEPTED"));
        accepted.put(api.get(abandoned).json().path("jobId").asString(), sha256(leftAlone));
        awaitAllEnded();
        invariants.check(accepted);
    }

    @Test
    @Order(5)
    void with_the_object_store_down_jobs_retry_with_back_off_and_complete_when_it_returns_a_cancelled_one_stops()
            throws Exception {
        String stored = accepted.keySet().stream().filter(j -> "SUCCEEDED".equals(status(j))).findFirst()
                .map(j -> api.get("/v1/jobs/" + j).json().path("imageId").asString()).orElseThrow();
        stack.stopS3();
        List<String> jobs = List.of(upload(500_000), upload(600_000), upload(700_000));
        // an integrity check asked for meanwhile cannot read the object: it waits, and never calls it missing
        assertThat(api.send("POST", "/v1/images/" + stored + "/integrity-checks", null).status()).isEqualTo(202);
        // jobs on partitions of one consumer thread wait behind the one it retries, so at least one shows retries
        await().atMost(Duration.ofSeconds(60)).until(() -> jobs.stream().anyMatch(j -> eventTypes(j).contains("RETRY_SCHEDULED")));
        assertThat(countStatus(jobs, "SUCCEEDED")).isZero();
        JsonNode waiting = api.get("/v1/images/" + stored).json().path("integrity");
        assertThat(waiting.path("status").asString()).isEqualTo("UNCHECKED");
        assertThat(waiting.path("checkRequestedAt").isNull()).isFalse();
        // the job being retried is cancelled: its worker hears of it and stops retrying it while the store is
        // still down (its staged bytes go), instead of holding its partition for the retry budget
        String retrying = jobs.stream().filter(j -> eventTypes(j).contains("RETRY_SCHEDULED")).findFirst().orElseThrow();
        assertThat(api.send("POST", "/v1/jobs/" + retrying + "/cancel", null).status()).isEqualTo(200);
        accepted.remove(retrying); // no longer one that must succeed
        await().atMost(Duration.ofSeconds(30)).until(() -> !java.nio.file.Files.exists(stack.staging.resolve(retrying)));
        assertThat(countStatus(jobs, "SUCCEEDED")).as("the store is still down").isZero();
        stack.startS3();
        awaitAllEnded();
        assertThat(status(retrying)).isEqualTo("CANCELLED");
        assertThat(eventTypes(retrying)).doesNotContain("STORED");
        await().atMost(Duration.ofSeconds(90)).until(() ->
                api.get("/v1/images/" + stored).json().path("integrity").path("checkRequestedAt").isNull());
        assertThat(api.get("/v1/images/" + stored).json().path("integrity").path("status").asString()).isEqualTo("INTACT");
        invariants.check(accepted);
    }

    @Test
    @Order(6)
    void a_zombie_worker_that_wakes_up_after_its_job_was_taken_over_changes_nothing() throws Exception {
        stack.stopS3(); // holds the job in the worker's retry loop, so the freeze lands mid-job
        String job = upload(3 * 1024 * 1024);
        await().atMost(Duration.ofSeconds(60)).until(() -> eventTypes(job).contains("RETRY_SCHEDULED"));
        worker.pause();
        stack.startS3();
        ServiceProcess second = stack.startWorker(WORKER_TUNING);
        try {
            await().atMost(Duration.ofSeconds(90)).until(() -> status(job).equals("SUCCEEDED"));
            worker.resume();
            // the zombie wakes up, finds it lost its partitions and rejoins: both workers' 4 consumers each
            await().atMost(Duration.ofSeconds(90)).until(() -> groupMembers("upload-workers") == 8);
            awaitAllEnded();
            invariants.check(accepted);
            assertThat(eventTypes(job).stream().filter("SUCCEEDED"::equals).count()).isEqualTo(1);
        } finally {
            worker.resume();
            second.close();
            stack.workers.remove(second);
        }
    }

    @Test
    @Order(7)
    void a_kafka_broker_killed_and_restarted_loses_no_accepted_upload() throws Exception {
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            jobs.add(upload(3 * 1024 * 1024));
        }
        stack.kafka.kill();
        // the broker is gone: uploads are still accepted, their events wait in the outbox
        for (int i = 0; i < 3; i++) {
            jobs.add(upload(1024 * 1024));
        }
        stack.kafka.restart();
        TestStack.awaitPort(stack.kafka);
        awaitAllEnded();
        invariants.check(accepted);
        assertThat(countStatus(jobs, "SUCCEEDED")).isEqualTo(jobs.size());
    }

    @Test
    @Order(8)
    void a_gateway_killed_mid_upload_answers_nothing_leaves_nothing_and_the_retry_makes_one_job() throws Exception {
        byte[] content = randomBytes(3 * 1024 * 1024);
        // and a resumable upload of the same bytes, its first MiB acknowledged before the kill
        String upload = Tus.create(stack.gateway, stack.adminToken, patientId, content.length);
        int acknowledged = 1024 * 1024;
        assertThat(Tus.send(stack.gateway, stack.adminToken, "PATCH", upload,
                Arrays.copyOfRange(content, 0, acknowledged), "Upload-Offset", "0").statusCode()).isEqualTo(204);
        String boundary = "kill-" + UUID.randomUUID();
        try (Socket socket = new Socket("127.0.0.1", stack.gateway.port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/patients/" + patientId + "/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + stack.adminToken + "\r\n"
                    + "Idempotency-Key: killed-1\r\nContent-Type: multipart/form-data; boundary=" + boundary + "\r\n"
                    + "Content-Length: " + (content.length + 1000) + "\r\n\r\n--" + boundary + "\r\n"
                    + "Content-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(content, 0, content.length / 2);
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> partFiles() > 0);
            stack.gateway.kill();
            socket.setSoTimeout(10_000);
            assertThat(answerOf(socket)).as("no answer from a dead gateway").isEqualTo(-1);
        }
        stack.gateway.restart();
        TestStack.awaitHealthy(stack.gateway);
        await().atMost(Duration.ofSeconds(30)).until(() -> partFiles() == 0); // swept after the grace period

        var parts = List.of(Part.bytes("file", "f.bin", "application/octet-stream", content));
        var retry = api.postMultipart("/v1/patients/" + patientId + "/images", parts, "Idempotency-Key", "killed-1");
        var again = api.postMultipart("/v1/patients/" + patientId + "/images", parts, "Idempotency-Key", "killed-1");
        assertThat(retry.status()).isEqualTo(202);
        assertThat(again.json().path("jobId").asString()).isEqualTo(retry.json().path("jobId").asString());
        accepted.put(retry.json().path("jobId").asString(), sha256(content));

        // the restarted gateway knows the resumable upload and every acknowledged byte; the client goes on
        var offset = Tus.send(stack.gateway, stack.adminToken, "HEAD", upload, null);
        assertThat(offset.headers().firstValue("Upload-Offset")).hasValue(Integer.toString(acknowledged));
        var rest = Tus.send(stack.gateway, stack.adminToken, "PATCH", upload,
                Arrays.copyOfRange(content, acknowledged, content.length), "Upload-Offset", Integer.toString(acknowledged));
        assertThat(rest.statusCode()).isEqualTo(204);
        JsonNode resumed = api.get(upload).json();
        assertThat(resumed.path("duplicateOf").asString()).isEqualTo(retry.json().path("imageId").asString());
        accepted.put(resumed.path("jobId").asString(), sha256(content));
        awaitAllEnded();
        invariants.check(accepted);
    }

    @Test
    @Order(9)
    void replaying_both_topics_from_the_earliest_offset_changes_nothing() throws Exception {
        awaitAllEnded();
        worker.close();
        stack.metadata.close();
        Map<String, Invariants.JobRow> jobsBefore = invariants.jobs();
        Map<String, String> objectsBefore = objects();

        resetToEarliest("upload-workers", "patient-images.uploads");
        resetToEarliest("metadata-service", "patient-images.job-events");
        stack.metadata.restart();
        TestStack.awaitHealthy(stack.metadata);
        worker.restart();
        TestStack.awaitHealthy(worker);
        await().atMost(Duration.ofSeconds(120)).until(() -> caughtUp("upload-workers", "patient-images.uploads")
                && caughtUp("metadata-service", "patient-images.job-events"));

        assertThat(invariants.jobs()).isEqualTo(jobsBefore);
        assertThat(objects()).isEqualTo(objectsBefore);
        invariants.check(accepted);
    }

    @Test
    @Order(10)
    void a_worker_stopped_mid_job_stops_gracefully_hands_the_job_back_and_another_finishes_it_once() throws Exception {
        stack.stopS3(); // the job cannot end while the worker stops
        String job = upload(2 * 1024 * 1024);
        await().atMost(Duration.ofSeconds(60)).until(() -> eventTypes(job).contains("RETRY_SCHEDULED"));
        worker.terminate();
        assertThat(worker.awaitExit(Duration.ofSeconds(30))).as("the worker ends by itself on SIGTERM").isTrue();
        stack.workers.remove(worker);
        assertThat(status(job)).as("handed back, not failed").isIn("QUEUED", "RUNNING");
        stack.startS3();
        worker = stack.startWorker(WORKER_TUNING);
        await().atMost(Duration.ofSeconds(90)).until(() -> status(job).equals("SUCCEEDED"));
        assertThat(eventTypes(job).stream().filter("SUCCEEDED"::equals).count()).isEqualTo(1);
        awaitAllEnded();
        invariants.check(accepted);
    }

    @Test
    @Order(11)
    void a_gateway_stopped_mid_upload_finishes_that_upload_before_it_exits() throws Exception {
        byte[] content = randomBytes(2 * 1024 * 1024);
        String boundary = "stop-" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.bin\"\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII);
        String answer;
        try (Socket socket = new Socket("127.0.0.1", stack.gateway.port)) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/patients/" + patientId + "/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + stack.adminToken + "\r\n"
                    + "Content-Type: multipart/form-data; boundary=" + boundary + "\r\n"
                    + "Content-Length: " + (head.length + content.length + tail.length) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(head);
            out.write(content, 0, content.length / 2);
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> partFiles() > 0);
            stack.gateway.terminate(); // SIGTERM while half the file is in
            out.write(content, content.length / 2, content.length - content.length / 2);
            out.write(tail);
            out.flush();
            answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
        assertThat(answer).startsWith("HTTP/1.1 202");
        String jobId = answer.replaceAll("(?s).*\"jobId\":\"([^\"]+)\".*", "$1");
        accepted.put(jobId, sha256(content));
        assertThat(stack.gateway.awaitExit(Duration.ofSeconds(30))).as("the gateway ends by itself").isTrue();
        stack.gateway.restart();
        TestStack.awaitHealthy(stack.gateway);
        awaitAllEnded();
        assertThat(status(jobId)).isEqualTo("SUCCEEDED");
        invariants.check(accepted);
    }

    @Test
    @Order(12)
    void a_job_cancelled_before_its_worker_came_ends_cancelled_and_what_the_worker_stores_of_it_is_removed()
            throws Exception {
        worker.pause(); // so that the job is still queued when it is cancelled
        byte[] content = randomBytes(2 * 1024 * 1024);
        TestHttp.Answer answer = api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "wrong-patient.bin", "application/octet-stream", content)));
        assertThat(answer.status()).isEqualTo(202);
        String jobId = answer.json().path("jobId").asString();
        String imageId = answer.json().path("imageId").asString();

        TestHttp.Answer cancelled = api.send("POST", "/v1/jobs/" + jobId + "/cancel", null);
        assertThat(cancelled.status()).as(cancelled.toString()).isEqualTo(200);
        assertThat(cancelled.json().path("status").asString()).isEqualTo("CANCELLED");
        assertThat(api.get("/v1/images/" + imageId).status()).isEqualTo(404);
        assertThat(api.send("POST", "/v1/jobs/" + jobId + "/cancel", null).json().path("status").asString())
                .isEqualTo("CANCELLED");

        // the worker wakes to the job and to its cancellation: it skips the job if it hears of the cancellation
        // first, else it stores the file, reports the end, and the object is removed after it; nothing stays
        worker.resume();
        S3Client s3 = stack.s3Client();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() ->
                !java.nio.file.Files.exists(stack.staging.resolve(jobId))
                        && s3.listObjectsV2(b -> b.bucket(TestStack.BUCKET).prefix("images/" + imageId + "/"))
                        .keyCount() == 0);
        assertThat(status(jobId)).isEqualTo("CANCELLED");
        assertThat(eventTypes(jobId)).containsExactly("ACCEPTED", "CANCELLED");
        TestHttp.Answer ended = api.send("POST", "/v1/jobs/" + accepted.keySet().iterator().next() + "/cancel", null);
        assertThat(ended.status()).isEqualTo(409);
        assertThat(ended.json().path("code").asString()).isEqualTo("JOB_ENDED");
        invariants.check(accepted);
    }

    @Test
    @Order(14)
    void the_audit_records_of_calls_made_while_the_metadata_service_was_down_survive_kill_9_of_the_gateway() {
        stack.metadata.kill();
        List<String> requests = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String requestId = "audit-kill-" + i + "-" + UUID.randomUUID();
            requests.add(requestId);
            // answered 503: the metadata-service is away; the record of the call waits in the gateway's journal
            assertThat(api.get("/v1/patients/" + patientId, "X-Request-Id", requestId).status()).isEqualTo(503);
        }
        stack.gateway.kill();
        stack.metadata.restart();
        stack.gateway.restart();
        TestStack.awaitHealthy(stack.gateway);
        // the restarted gateway sends what its journal holds, each record once
        Map<String, JsonNode> recorded = await().atMost(Duration.ofSeconds(30)).until(() -> {
            Map<String, JsonNode> found = new HashMap<>();
            api.get("/v1/audit?action=patient.read&patientId=" + patientId + "&limit=500").json().path("items")
                    .forEach(r -> {
                        if (requests.contains(r.path("requestId").asString())) {
                            assertThat(found.put(r.path("requestId").asString(), r)).as("recorded once").isNull();
                        }
                    });
            return found;
        }, found -> found.size() == requests.size());
        recorded.values().forEach(r -> {
            assertThat(r.path("outcome").asString()).isEqualTo("FAILED");
            assertThat(r.path("status").asInt()).isEqualTo(503);
        });
    }

    @Test
    @Order(13)
    void a_job_failed_while_the_object_store_stayed_down_keeps_its_bytes_and_its_retry_stores_them_once()
            throws Exception {
        // a worker whose retry budget is seconds, alone in the group
        worker.terminate();
        assertThat(worker.awaitExit(Duration.ofSeconds(30))).isTrue();
        stack.workers.remove(worker);
        String[] impatientTuning = Arrays.stream(WORKER_TUNING)
                .map(a -> a.startsWith("--patient-images.worker.retry-for=") ? "--patient-images.worker.retry-for=4s" : a)
                .toArray(String[]::new);
        ServiceProcess impatient = stack.startWorker(impatientTuning);
        boolean s3Down = false;
        try {
            stack.stopS3();
            s3Down = true;
            byte[] content = randomBytes(1024 * 1024);
            TestHttp.Answer answer = api.postMultipart("/v1/patients/" + patientId + "/images",
                    List.of(Part.bytes("file", "scan.bin", "application/octet-stream", content)));
            assertThat(answer.status()).isEqualTo(202);
            String jobId = answer.json().path("jobId").asString();
            String imageId = answer.json().path("imageId").asString();
            await().atMost(Duration.ofSeconds(90)).until(() -> status(jobId).equals("FAILED"));
            JsonNode error = api.get("/v1/jobs/" + jobId).json().path("error");
            assertThat(error.path("code").asString()).isEqualTo("STORAGE_UNAVAILABLE");
            assertThat(error.path("retryable").asBoolean()).isTrue();
            // the staging sweeper (a 5 s grace here, every second) keeps them too
            await().during(Duration.ofSeconds(7)).atMost(Duration.ofSeconds(8))
                    .until(() -> Files.exists(stack.staging.resolve(jobId)));

            stack.startS3();
            s3Down = false;
            TestHttp.Answer retried = api.send("POST", "/v1/jobs/" + jobId + "/retry", null);
            assertThat(retried.status()).as(retried.toString()).isEqualTo(202);
            String retryId = retried.json().path("jobId").asString();
            assertThat(retried.header("Location")).isEqualTo("/v1/jobs/" + retryId);
            assertThat(retried.json().path("retryOf").asString()).isEqualTo(jobId);
            assertThat(retried.json().path("imageId").asString()).isEqualTo(imageId);
            TestHttp.Answer again = api.send("POST", "/v1/jobs/" + jobId + "/retry", null);
            assertThat(again.status()).isEqualTo(202);
            assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
            assertThat(again.json().path("jobId").asString()).isEqualTo(retryId);

            await().atMost(Duration.ofSeconds(60)).until(() -> status(retryId).equals("SUCCEEDED"));
            accepted.put(retryId, sha256(content));
            assertThat(api.get("/v1/images/" + imageId).json().path("status").asString()).isEqualTo("AVAILABLE");
            JsonNode failed = api.get("/v1/jobs/" + jobId).json();
            assertThat(failed.path("status").asString()).isEqualTo("FAILED");
            assertThat(failed.path("retriedBy").asString()).isEqualTo(retryId);
            assertThat(Files.exists(stack.staging.resolve(jobId))).as("staged bytes once stored").isFalse();
            TestHttp.Answer done = api.send("POST", "/v1/jobs/" + retryId + "/retry", null);
            assertThat(done.status()).isEqualTo(409);
            assertThat(done.json().path("code").asString()).isEqualTo("JOB_NOT_RETRYABLE");
            invariants.check(accepted);
        } finally {
            if (s3Down) {
                stack.startS3();
            }
            impatient.close();
            stack.workers.remove(impatient);
            worker = stack.startWorker(WORKER_TUNING);
        }
    }

    // --- helpers

    /**
     * The first byte the server answers on a raw connection, or -1 for none: the connection ends either way when the
     * server dies, with a FIN, or with a reset when the kernel still held bytes the process had not read.
     */
    private static int answerOf(Socket socket) throws IOException {
        try {
            return socket.getInputStream().read();
        } catch (java.net.SocketException reset) {
            return -1;
        }
    }

    private static long partFiles() throws java.io.IOException {
        try (var files = java.nio.file.Files.list(stack.staging)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".part")).count();
        }
    }

    private static String upload(int size) throws Exception {
        byte[] content = randomBytes(size);
        TestHttp.Answer answer = api.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", "f.bin", "application/octet-stream", content)));
        assertThat(answer.status()).as(answer.toString()).isEqualTo(202);
        String jobId = answer.json().path("jobId").asString();
        accepted.put(jobId, sha256(content));
        return jobId;
    }

    private static void awaitAllEnded() {
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
                accepted.keySet().stream().allMatch(j -> Set.of("SUCCEEDED", "FAILED").contains(status(j))));
    }

    private static String status(String jobId) {
        return api.get("/v1/jobs/" + jobId).json().path("status").asString();
    }

    private static long countStatus(List<String> jobs, String status) {
        return jobs.stream().filter(j -> status.equals(status(j))).count();
    }

    private static List<String> eventTypes(String jobId) {
        JsonNode items = api.get("/v1/jobs/" + jobId + "/events?limit=500").json().path("items");
        return StreamSupport.stream(items.spliterator(), false).map(e -> e.path("type").asString()).toList();
    }

    private static Map<String, String> objects() {
        Map<String, String> objects = new HashMap<>();
        stack.s3Client().listObjectsV2Paginator(b -> b.bucket(TestStack.BUCKET)).contents()
                .forEach((S3Object o) -> objects.put(o.key(), o.eTag() + "@" + o.lastModified()));
        return objects;
    }

    private static Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers));
    }

    private static long endOffsets(String topic) throws Exception {
        try (Admin admin = admin()) {
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            return admin.listOffsets(latest).all().get().values().stream().mapToLong(o -> o.offset()).sum();
        }
    }

    private static int groupMembers(String group) throws Exception {
        try (Admin admin = admin()) {
            return admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().size();
        }
    }

    private static void resetToEarliest(String group, String topic) throws Exception {
        try (Admin admin = admin()) {
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().isEmpty());
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<TopicPartition, OffsetAndMetadata> earliest = new HashMap<>();
            partitions.forEach(p -> earliest.put(new TopicPartition(topic, p.partition()), new OffsetAndMetadata(0)));
            admin.alterConsumerGroupOffsets(group, earliest).all().get();
        }
    }

    private static boolean caughtUp(String group, String topic) throws Exception {
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            var partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get();
            return ends.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
                    || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue().offset()));
        }
    }


}
