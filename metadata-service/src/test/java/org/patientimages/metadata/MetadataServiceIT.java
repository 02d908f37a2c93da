package org.patientimages.metadata;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.AttributesExtracted;
import org.patientimages.events.v1.ImageDeleted;
import org.patientimages.events.v1.JobCancelled;
import org.patientimages.events.v1.ImageStored;
import org.patientimages.events.v1.JobEvent;
import org.patientimages.events.v1.JobFailed;
import org.patientimages.events.v1.JobProgressed;
import org.patientimages.events.v1.JobStarted;
import org.patientimages.events.v1.JobSucceeded;
import org.patientimages.events.v1.StepSkipped;
import org.patientimages.events.v1.ThumbnailRendered;
import org.patientimages.events.v1.UploadAccepted;
import org.patientimages.localstack.testing.TestHttp;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The metadata-service against a real PostgreSQL and a real Kafka broker. */
class MetadataServiceIT extends RunningService {

    @Test
    void creates_finds_and_lists_patients_and_refuses_a_taken_username() {
        String username = "user-" + UUID.randomUUID().toString().substring(0, 8);
        var created = http.postJson("/internal/v1/patients", Map.of("name", " Jane Smith ", "username", username));
        assertThat(created.status()).isEqualTo(201);
        String id = created.json().path("patientId").asString();
        assertThat(created.header("Location")).isEqualTo("/v1/patients/" + id);
        assertThat(created.json().path("name").asString()).isEqualTo("Jane Smith");
        assertThat(created.json().path("createdAt").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

        assertThat(http.get("/internal/v1/patients/" + id).json().path("username").asString()).isEqualTo(username);
        var listed = http.get("/internal/v1/patients?username=" + username).json();
        assertThat(listed.path("items")).hasSize(1);
        assertThat(listed.path("nextCursor").isNull()).isTrue();

        var taken = http.postJson("/internal/v1/patients", Map.of("name", "Other", "username", username));
        assertThat(taken.status()).isEqualTo(409);
        assertThat(taken.contentType()).isEqualTo("application/problem+json");
        assertThat(taken.json().path("code").asString()).isEqualTo("USERNAME_TAKEN");
    }

    @Test
    void a_patients_date_of_birth_is_kept_checked_changed_and_found_with_the_name() {
        String username = "born-" + UUID.randomUUID().toString().substring(0, 8);
        var created = http.postJson("/internal/v1/patients", Map.of("name", "Grace Hopper " + username,
                "username", username, "birthDate", " 1931-05-20 "));
        assertThat(created.status()).isEqualTo(201);
        String id = created.json().path("patientId").asString();
        assertThat(created.json().path("birthDate").asString()).isEqualTo("1931-05-20");
        assertThat(http.get("/internal/v1/patients/" + id).json().path("birthDate").asString()).isEqualTo("1931-05-20");
        assertThat(http.postJson("/internal/v1/patients", Map.of("name", "No Date", "username", username + "-n"))
                .json().path("birthDate").isNull()).isTrue();
        for (String bad : List.of("20.05.1931", "1931-02-30", "2999-01-01", "1700-01-01", "")) {
            var refused = http.postJson("/internal/v1/patients", Map.of("name", "Bad Date", "username",
                    "bad-" + UUID.randomUUID().toString().substring(0, 8), "birthDate", bad));
            assertThat(refused.status()).as(bad).isEqualTo(400);
            assertThat(refused.json().path("code").asString()).as(bad).isEqualTo("INVALID_BIRTH_DATE");
        }
        assertThat(http.send("PATCH", "/internal/v1/patients/" + id, Map.of("birthDate", "1931-05-21")).json()
                .path("birthDate").asString()).isEqualTo("1931-05-21");
        assertThat(http.send("PATCH", "/internal/v1/patients/" + id, Map.of("name", "Grace Murray " + username)).json()
                .path("birthDate").asString()).as("unchanged when not given").isEqualTo("1931-05-21");
        // found by a part of the name and the date of birth
        JsonNode found = http.get("/internal/v1/patients?q=" + username + "&birthDate=1931-05-21").json();
        assertThat(found.path("items")).hasSize(1);
        assertThat(found.path("items").get(0).path("patientId").asString()).isEqualTo(id);
        assertThat(http.get("/internal/v1/patients?q=" + username + "&birthDate=1931-05-20").json().path("items"))
                .isEmpty();
        assertThat(http.get("/internal/v1/patients?birthDate=yesterday").json().path("code").asString())
                .isEqualTo("INVALID_BIRTH_DATE");
    }

    @Test
    void a_patient_is_found_by_its_identifier_which_names_one_live_patient() {
        String mrn = "MRN-" + UUID.randomUUID().toString().substring(0, 8);
        var first = http.postJson("/internal/v1/patients", Map.of("name", "Ann Lee", "username", mrn + "-a",
                "identifier", " " + mrn + " "));
        assertThat(first.status()).isEqualTo(201);
        String firstId = first.json().path("patientId").asString();
        assertThat(first.json().path("identifier").asString()).isEqualTo(mrn);
        // as a DICOM file's Patient ID carries it: spaces around it do not count
        assertThat(itemIds(http.get("/internal/v1/patients?identifier=" + mrn + "%20").json(), "patientId"))
                .containsExactly(firstId);
        var clinician = new String[]{"X-Caller", "dr-" + mrn, "X-Caller-Roles", "clinician"};
        assertThat(http.get("/internal/v1/patients?identifier=" + mrn, clinician).json().path("items")).isEmpty();

        var twice = http.postJson("/internal/v1/patients", Map.of("name", "Ann Lee", "username", mrn + "-b",
                "identifier", mrn));
        assertThat(twice.status()).isEqualTo(409);
        assertThat(twice.json().path("code").asString()).isEqualTo("IDENTIFIER_TAKEN");
        String secondId = aPatient();
        var changed = http.send("PATCH", "/internal/v1/patients/" + secondId, Map.of("identifier", mrn));
        assertThat(changed.json().path("code").asString()).isEqualTo("IDENTIFIER_TAKEN");
        assertThat(http.send("PATCH", "/internal/v1/patients/" + secondId, Map.of("identifier", "a\\b")).json()
                .path("code").asString()).isEqualTo("INVALID_IDENTIFIER");
        assertThat(http.send("PATCH", "/internal/v1/patients/" + secondId, Map.of("identifier", "x".repeat(65)))
                .json().path("code").asString()).isEqualTo("IDENTIFIER_TOO_LONG");
        assertThat(http.get("/internal/v1/patients/" + secondId).json().path("identifier").isNull()).isTrue();

        // a deleted patient lets go of it, and cannot come back while another has it
        assertThat(http.send("DELETE", "/internal/v1/patients/" + firstId, null).status()).isEqualTo(204);
        var again = http.send("PATCH", "/internal/v1/patients/" + secondId, Map.of("identifier", mrn));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("identifier").asString()).isEqualTo(mrn);
        assertThat(again.json().path("username").asString()).startsWith("jane-");
        var restore = http.send("POST", "/internal/v1/patients/" + firstId + "/restore", null);
        assertThat(restore.status()).isEqualTo(409);
        assertThat(restore.json().path("code").asString()).isEqualTo("IDENTIFIER_TAKEN");
        assertThat(http.get("/internal/v1/patients/" + firstId).status()).isEqualTo(404);
        assertThat(itemIds(http.get("/internal/v1/patients?identifier=" + mrn).json(), "patientId"))
                .containsExactly(secondId);
    }

    @Test
    void refuses_blank_and_too_long_patient_fields_precisely() {
        var blank = http.postJson("/internal/v1/patients", Map.of("name", "  ", "username", "u1"));
        assertThat(blank.status()).isEqualTo(400);
        assertThat(blank.json().path("code").asString()).isEqualTo("MISSING_NAME");
        var tooLong = http.postJson("/internal/v1/patients", Map.of("name", "x".repeat(201), "username", "u2"));
        assertThat(tooLong.json().path("code").asString()).isEqualTo("NAME_TOO_LONG");
        var malformed = http.postJson("/internal/v1/patients", "{not json");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.json().path("code").asString()).isEqualTo("MALFORMED_JSON");
    }

    @Test
    void pages_through_patients_with_a_cursor_without_gaps_or_repeats() {
        String prefix = "page" + UUID.randomUUID().toString().substring(0, 6);
        for (int i = 0; i < 5; i++) {
            http.postJson("/internal/v1/patients", Map.of("name", "P" + i, "username", prefix + i));
        }
        List<String> seen = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = http.get("/internal/v1/patients?limit=2" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.path("items").forEach(p -> seen.add(p.path("patientId").asString()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        long total = jdbc.sql("select count(*) from patients where deleted_at is null").query(Long.class).single();
        assertThat(seen).doesNotHaveDuplicates().hasSize((int) total);
        assertThat(http.get("/internal/v1/patients?limit=501").json().path("code").asString()).isEqualTo("INVALID_LIMIT");
        assertThat(http.get("/internal/v1/patients?cursor=%25%25").json().path("code").asString())
                .isEqualTo("INVALID_CURSOR");
    }

    @Test
    void patients_are_found_by_a_part_of_their_name_or_username_in_any_case_and_only_the_callers() {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String smith = http.postJson("/internal/v1/patients", Map.of("name", "Jane Smith-" + tag,
                "username", "js-" + tag)).json().path("patientId").asString();
        String smithers = http.postJson("/internal/v1/patients", Map.of("name", "Waylon SMITHERS " + tag,
                "username", "ws-" + tag)).json().path("patientId").asString();
        String percent = http.postJson("/internal/v1/patients", Map.of("name", "Ann 100% Lee",
                "username", "al_" + tag)).json().path("patientId").asString();
        assertThat(itemIds(http.get("/internal/v1/patients?q=smith-" + tag.toUpperCase()).json(), "patientId"))
                .containsExactly(smith);
        assertThat(itemIds(http.get("/internal/v1/patients?q=%20mith%20&username=ws-" + tag).json(), "patientId"))
                .containsExactly(smithers);
        assertThat(itemIds(http.get("/internal/v1/patients?q=" + tag + "&limit=500").json(), "patientId"))
                .containsExactly(smith, smithers, percent);
        // the username too; and % and _ are themselves, not wildcards
        assertThat(itemIds(http.get("/internal/v1/patients?q=AL_" + tag).json(), "patientId")).containsExactly(percent);
        assertThat(itemIds(http.get("/internal/v1/patients?q=al%25" + tag).json(), "patientId")).isEmpty();
        assertThat(itemIds(http.get("/internal/v1/patients?q=100%25%20lee").json(), "patientId")).contains(percent);
        // two at a time, the same three
        List<String> paged = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = http.get("/internal/v1/patients?limit=2&q=" + tag + (cursor == null ? "" : "&cursor=" + cursor))
                    .json();
            page.path("items").forEach(p -> paged.add(p.path("patientId").asString()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        assertThat(paged).containsExactly(smith, smithers, percent);
        // a clinician finds only the patients granted to them
        String clinician = "dr-" + tag;
        http.send("PUT", "/internal/v1/patients/" + smithers + "/grants/" + clinician, null);
        assertThat(itemIds(http.get("/internal/v1/patients?q=smith", "X-Caller", clinician, "X-Caller-Roles",
                "clinician").json(), "patientId")).containsExactly(smithers);
        assertThat(http.get("/internal/v1/patients?q=" + "x".repeat(201)).json().path("code").asString())
                .isEqualTo("INVALID_PARAMETER");
    }

    @Test
    void an_upload_is_recorded_and_its_event_published_then_worker_facts_complete_it() throws Exception {
        String patientId = aPatient();
        Map<String, Object> upload = anUpload(patientId, null);
        var registered = http.postJson("/internal/v1/uploads", upload);
        assertThat(registered.status()).isEqualTo(201);
        String jobId = upload.get("jobId").toString();
        String imageId = upload.get("imageId").toString();

        UploadAccepted event = UploadAccepted.parseFrom(awaitRecord(Topics.UPLOADS, jobId).value());
        assertThat(event.getImageId()).isEqualTo(imageId);
        assertThat(event.getSha256()).isEqualTo(upload.get("sha256"));
        assertThat(event.toString()).doesNotContain("knee.png").doesNotContain("Knee");

        JsonNode job = http.get("/internal/v1/jobs/" + jobId).json();
        assertThat(job.path("status").asString()).isEqualTo("QUEUED");
        assertThat(http.get("/internal/v1/images/" + imageId).json().path("tags").toString()).isEqualTo("[\"knee\",\"mri\"]");

        List<JobEvent> facts = workerFacts(jobId, imageId);
        facts.forEach(this::publish);
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/internal/v1/jobs/" + jobId).json().path("status").asString().equals("SUCCEEDED"));

        JsonNode image = http.get("/internal/v1/images/" + imageId).json();
        assertThat(image.path("status").asString()).isEqualTo("AVAILABLE");
        assertThat(image.path("objectKey").asString()).isEqualTo("images/" + imageId + "/original");
        assertThat(eventTypes(jobId))
                .containsExactly("ACCEPTED", "STARTED", "PROGRESS", "STORED", "ATTRIBUTES_EXTRACTED", "SUCCEEDED");
        assertThat(image.path("attributes").path("width").asInt()).isEqualTo(640);
        JsonNode finished = http.get("/internal/v1/jobs/" + jobId).json();
        assertThat(finished.path("progress").asInt()).isEqualTo(100);
        assertThat(finished.path("attempts").asInt()).isEqualTo(1);

        // replaying the same events, and a late fact from a zombie worker, changes nothing
        facts.forEach(this::publish);
        publish(fact(jobId, imageId).setStarted(JobStarted.newBuilder().setWorkerId("zombie")).build());
        String marker = UUID.randomUUID().toString();
        String markerJob = registerMarkerJob(marker);
        await().atMost(Duration.ofSeconds(20)).until(() -> eventTypes(markerJob).contains("STARTED"));
        assertThat(eventTypes(jobId))
                .containsExactly("ACCEPTED", "STARTED", "PROGRESS", "STORED", "ATTRIBUTES_EXTRACTED", "SUCCEEDED");
        assertThat(http.get("/internal/v1/jobs/" + jobId).json()).isEqualTo(finished);
    }

    @Test
    void the_files_of_an_archive_are_registered_all_or_none_and_a_retry_gets_the_same_jobs() throws Exception {
        String patientId = aPatient();
        List<Map<String, Object>> files = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            files.add(anUpload(patientId, "archive-1#" + i));
        }
        // one refused file refuses the archive: nothing of it is recorded
        Map<String, Object> refused = new HashMap<>(files.get(2));
        refused.put("tags", List.of("not a tag!"));
        var answer = http.postJson("/internal/v1/uploads/batch",
                Map.of("registrations", List.of(files.get(0), files.get(1), refused)));
        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().path("code").asString()).isEqualTo("INVALID_METADATA");
        for (Map<String, Object> file : files) {
            assertThat(http.get("/internal/v1/jobs/" + file.get("jobId")).status()).isEqualTo(404);
        }
        assertThat(http.get("/internal/v1/uploads/batch?patientId=" + patientId + "&idempotencyKey=archive-1")
                .status()).isEqualTo(404);

        var registered = http.postJson("/internal/v1/uploads/batch", Map.of("registrations", files));
        assertThat(registered.status()).isEqualTo(201);
        List<String> jobIds = new ArrayList<>();
        registered.json().path("items").forEach(item -> jobIds.add(item.path("jobId").asString()));
        assertThat(jobIds).containsExactlyElementsOf(files.stream().map(f -> f.get("jobId").toString()).toList());
        for (String jobId : jobIds) {
            UploadAccepted event = UploadAccepted.parseFrom(awaitRecord(Topics.UPLOADS, jobId).value());
            assertThat(event.getJobId()).isEqualTo(jobId);
        }

        // the retry, with new ids as the gateway would make them, gets the first jobs and creates nothing
        List<Map<String, Object>> retry = files.stream()
                .map(f -> anUpload(patientId, (String) f.get("idempotencyKey"))).toList();
        var replayed = http.postJson("/internal/v1/uploads/batch", Map.of("registrations", retry));
        assertThat(replayed.status()).isEqualTo(200);
        List<String> replayedIds = new ArrayList<>();
        replayed.json().path("items").forEach(item -> {
            assertThat(item.path("replayed").asBoolean()).isTrue();
            replayedIds.add(item.path("jobId").asString());
        });
        assertThat(replayedIds).isEqualTo(jobIds);
        for (Map<String, Object> file : retry) {
            assertThat(http.get("/internal/v1/jobs/" + file.get("jobId")).status()).isEqualTo(404);
        }
        List<String> found = new ArrayList<>();
        http.get("/internal/v1/uploads/batch?patientId=" + patientId + "&idempotencyKey=archive-1").json()
                .path("items").forEach(item -> found.add(item.path("jobId").asString()));
        assertThat(found).isEqualTo(jobIds);

        assertThat(http.postJson("/internal/v1/uploads/batch", Map.of("registrations", List.of())).status())
                .isEqualTo(400);
        assertThat(http.postJson("/internal/v1/uploads/batch", Map.of("registrations",
                List.of(anUpload(patientId, "k".repeat(256))))).json().path("code").asString())
                .isEqualTo("INVALID_IDEMPOTENCY_KEY");
        Map<String, Object> noPatient = anUpload(patientId, null);
        noPatient.put("patientId", null);
        assertThat(http.postJson("/internal/v1/uploads/batch", Map.of("registrations", List.of(noPatient))).json()
                .path("code").asString()).isEqualTo("INVALID_BATCH");

        // a DICOMweb store at the service's root: each file its own patient's, all or none
        String other = aPatient();
        List<Map<String, Object>> twoPatients = List.of(anUpload(patientId, null), anUpload(other, null));
        var clinician = new String[]{"X-Caller", "dr-batch", "X-Caller-Roles", "clinician"};
        http.send("PUT", "/internal/v1/patients/" + patientId + "/grants/dr-batch", null);
        var notGranted = http.postJson("/internal/v1/uploads/batch", Map.of("registrations", twoPatients), clinician);
        assertThat(notGranted.status()).isEqualTo(404);
        assertThat(notGranted.json().path("detail").asString()).contains(other);
        assertThat(http.get("/internal/v1/jobs/" + twoPatients.get(0).get("jobId")).status()).isEqualTo(404);
        var both = http.postJson("/internal/v1/uploads/batch", Map.of("registrations", twoPatients));
        assertThat(both.status()).isEqualTo(201);
        for (Map<String, Object> upload : twoPatients) {
            assertThat(http.get("/internal/v1/jobs/" + upload.get("jobId")).json().path("patientId").asString())
                    .isEqualTo(upload.get("patientId"));
        }
    }

    @Test
    void a_cancelled_job_ends_its_image_is_deleted_and_whatever_a_worker_stores_after_goes_too() throws Exception {
        String patientId = aPatient();
        Map<String, Object> upload = anUpload(patientId, null);
        assertThat(http.postJson("/internal/v1/uploads", upload).status()).isEqualTo(201);
        String jobId = upload.get("jobId").toString();
        String imageId = upload.get("imageId").toString();
        // a worker has started it
        publish(fact(jobId, imageId).setStarted(JobStarted.newBuilder().setWorkerId("w1")).build());
        await().atMost(Duration.ofSeconds(20)).until(() -> eventTypes(jobId).contains("STARTED"));

        var cancelled = http.postJson("/internal/v1/jobs/" + jobId + "/cancel", Map.of());
        assertThat(cancelled.status()).isEqualTo(200);
        assertThat(cancelled.json().path("status").asString()).isEqualTo("CANCELLED");
        assertThat(eventTypes(jobId)).containsExactly("ACCEPTED", "STARTED", "CANCELLED");
        assertThat(http.get("/internal/v1/images/" + imageId).status()).isEqualTo(404);
        assertThat(ImageDeleted.parseFrom(awaitRecord(Topics.IMAGE_DELETIONS, imageId).value()).getObjectPrefix())
                .isEqualTo("images/" + imageId + "/");
        // the workers are told, so that they skip the job or stop retrying it
        assertThat(JobCancelled.parseFrom(awaitRecord(Topics.JOB_CANCELLATIONS, jobId).value()).getImageId())
                .isEqualTo(imageId);
        // again: the same answer, nothing new
        assertThat(http.postJson("/internal/v1/jobs/" + jobId + "/cancel", Map.of()).json().path("status").asString())
                .isEqualTo("CANCELLED");

        // the worker did not know: it stores the file and reports the end, which changes nothing but has the
        // image's objects deleted once more
        workerFacts(jobId, imageId).forEach(this::publish);
        assertThat(awaitRecords(Topics.IMAGE_DELETIONS, imageId, 2)).hasSize(2);
        assertThat(eventTypes(jobId)).containsExactly("ACCEPTED", "STARTED", "CANCELLED");
        assertThat(http.get("/internal/v1/jobs/" + jobId).json().path("status").asString()).isEqualTo("CANCELLED");
        assertThat(http.get("/internal/v1/images/" + imageId).status()).isEqualTo(404);

        // the retry of an upload whose job was cancelled before any worker took it answers what the first answer
        // said, and creates nothing
        Map<String, Object> keyed = anUpload(patientId, "cancel-" + UUID.randomUUID());
        http.postJson("/internal/v1/uploads", keyed);
        http.postJson("/internal/v1/jobs/" + keyed.get("jobId") + "/cancel", Map.of());
        var replay = http.postJson("/internal/v1/uploads", keyed);
        assertThat(replay.status()).isEqualTo(200);
        assertThat(replay.json().path("status").asString()).isEqualTo("QUEUED");
        assertThat(replay.json().path("replayed").asBoolean()).isTrue();

        // a job that ended otherwise is not cancelled
        Map<String, Object> done = anUpload(patientId, null);
        http.postJson("/internal/v1/uploads", done);
        workerFacts(done.get("jobId").toString(), done.get("imageId").toString()).forEach(this::publish);
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/jobs/" + done.get("jobId")).json()
                .path("status").asString().equals("SUCCEEDED"));
        var ended = http.postJson("/internal/v1/jobs/" + done.get("jobId") + "/cancel", Map.of());
        assertThat(ended.status()).isEqualTo(409);
        assertThat(ended.json().path("code").asString()).isEqualTo("JOB_ENDED");
        assertThat(http.postJson("/internal/v1/jobs/" + UUID.randomUUID() + "/cancel", Map.of()).status())
                .isEqualTo(404);
    }

    @Test
    void a_job_failed_for_a_passing_cause_is_retried_as_a_new_job_of_the_same_image_from_the_kept_bytes()
            throws Exception {
        String patientId = aPatient();
        Map<String, Object> upload = anUpload(patientId, null);
        assertThat(http.postJson("/internal/v1/uploads", upload).status()).isEqualTo(201);
        String jobId = upload.get("jobId").toString();
        String imageId = upload.get("imageId").toString();
        assertThat(stagedBytesNeeded(jobId)).as("while queued").isTrue();
        // the worker gave up: the object store stayed down for its whole retry budget
        publish(fact(jobId, imageId).setStarted(JobStarted.newBuilder().setWorkerId("w1")).build());
        publish(fact(jobId, imageId).setFailed(JobFailed.newBuilder().setCode("STORAGE_UNAVAILABLE")
                .setMessage("Storing the upload kept failing.").setRetryable(true)).build());
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/jobs/" + jobId).json()
                .path("status").asString().equals("FAILED"));
        assertThat(stagedBytesNeeded(jobId)).as("kept for a retry").isTrue();
        for (int i = 0; i < 50; i++) { // as often as a sweeper asks: more than the pool has connections
            assertThat(stagedBytesNeeded(jobId)).isTrue();
        }

        var retried = http.postJson("/internal/v1/jobs/" + jobId + "/retry", Map.of());
        assertThat(retried.status()).as(retried.toString()).isEqualTo(201);
        String retryId = retried.json().path("jobId").asString();
        assertThat(retryId).isNotEqualTo(jobId);
        assertThat(retried.json().path("status").asString()).isEqualTo("QUEUED");
        assertThat(retried.json().path("imageId").asString()).isEqualTo(imageId);
        assertThat(retried.json().path("retryOf").asString()).isEqualTo(jobId);
        JsonNode failed = http.get("/internal/v1/jobs/" + jobId).json();
        assertThat(failed.path("status").asString()).as("a job's status only moves forward").isEqualTo("FAILED");
        assertThat(failed.path("retriedBy").asString()).isEqualTo(retryId);
        assertThat(http.get("/internal/v1/images/" + imageId).json().path("status").asString()).isEqualTo("PENDING");
        assertThat(eventTypes(retryId)).containsExactly("ACCEPTED");
        // a worker is told, and reads the bytes the first job staged
        UploadAccepted event = UploadAccepted.parseFrom(awaitRecord(Topics.UPLOADS, retryId).value());
        assertThat(event.getStagingKey()).isEqualTo(upload.get("stagingKey"));
        assertThat(event.getImageId()).isEqualTo(imageId);
        assertThat(event.getSha256()).isEqualTo(upload.get("sha256"));
        assertThat(event.getSizeBytes()).isEqualTo(((Number) upload.get("sizeBytes")).longValue());

        // asked again: the same job, nothing new; the running retry is not retried
        var again = http.postJson("/internal/v1/jobs/" + jobId + "/retry", Map.of());
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().path("jobId").asString()).isEqualTo(retryId);
        assertThat(jdbc.sql("select count(*) from jobs where image_id = ?::uuid").param(imageId).query(Long.class)
                .single()).isEqualTo(2);
        var running = http.postJson("/internal/v1/jobs/" + retryId + "/retry", Map.of());
        assertThat(running.status()).isEqualTo(409);
        assertThat(running.json().path("code").asString()).isEqualTo("JOB_NOT_RETRYABLE");

        workerFacts(retryId, imageId).forEach(this::publish);
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/images/" + imageId).json()
                .path("status").asString().equals("AVAILABLE"));
        assertThat(http.get("/internal/v1/jobs/" + retryId).json().path("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(stagedBytesNeeded(jobId)).as("once the retry succeeded").isFalse();
        // the change feed told of the failure, then of the image the retry stored
        await().atMost(Duration.ofSeconds(20)).until(() -> changeTypes(patientId, imageId).size() == 2);
        assertThat(changeTypes(patientId, imageId)).containsExactly("FAILED", "AVAILABLE");

        // a failure no retry mends keeps nothing
        Map<String, Object> mismatch = anUpload(patientId, null);
        mismatch.put("declaredSha256", "cd".repeat(32));
        http.postJson("/internal/v1/uploads", mismatch);
        var refused = http.postJson("/internal/v1/jobs/" + mismatch.get("jobId") + "/retry", Map.of());
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("code").asString()).isEqualTo("JOB_NOT_RETRYABLE");
        assertThat(refused.json().path("detail").asString()).contains("CHECKSUM_MISMATCH");
        assertThat(stagedBytesNeeded(mismatch.get("jobId").toString())).isFalse();

        // past the retry window (7 days) the bytes go and the job cannot be retried
        Map<String, Object> old = anUpload(patientId, null);
        http.postJson("/internal/v1/uploads", old);
        String oldJob = old.get("jobId").toString();
        publish(fact(oldJob, old.get("imageId").toString()).setFailed(JobFailed.newBuilder()
                .setCode("STORAGE_UNAVAILABLE").setMessage("Storing the upload kept failing.").setRetryable(true)).build());
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/jobs/" + oldJob).json()
                .path("status").asString().equals("FAILED"));
        assertThat(stagedBytesNeeded(oldJob)).isTrue();
        jdbc.sql("update jobs set updated_at = now() - interval '8 days' where id = ?::uuid").param(oldJob).update();
        assertThat(stagedBytesNeeded(oldJob)).isFalse();
        var late = http.postJson("/internal/v1/jobs/" + oldJob + "/retry", Map.of());
        assertThat(late.status()).isEqualTo(409);
        assertThat(late.json().path("detail").asString()).contains("7 day(s)");

        assertThat(http.postJson("/internal/v1/jobs/" + UUID.randomUUID() + "/retry", Map.of()).status())
                .isEqualTo(404);
        assertThat(stagedBytesNeeded(UUID.randomUUID().toString())).isFalse();
        assertThat(stagedBytesNeeded("not-a-key")).isFalse();
    }

    @Test
    void an_operator_retries_every_job_the_object_store_failed_in_one_call_and_only_those() throws Exception {
        String patientId = aPatient();
        List<String> storeDown = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            storeDown.add(failedUpload(patientId, "STORAGE_UNAVAILABLE", true));
        }
        String mismatch = failedUpload(patientId, "CHECKSUM_MISMATCH", false);
        String deleted = failedUpload(patientId, "STORAGE_UNAVAILABLE", true);
        String deletedImage = http.get("/internal/v1/jobs/" + deleted).json().path("imageId").asString();
        assertThat(http.send("DELETE", "/internal/v1/images/" + deletedImage, null).status()).isEqualTo(204);

        // operators see them wait (a gauge to alert on)
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                gauge(http.get("/actuator/prometheus").text(), "jobs_awaiting_retry")).isGreaterThanOrEqualTo(3));
        // a page at a time: the oldest failures first
        List<String> retried = new ArrayList<>();
        TestHttp.Answer page;
        do {
            page = http.postJson("/internal/v1/jobs/retry-failed?limit=2", Map.of());
            assertThat(page.status()).as(page.toString()).isEqualTo(200);
            assertThat(page.json().path("items").size()).isLessThanOrEqualTo(2);
            page.json().path("items").forEach(job -> retried.add(job.path("retryOf").asString()));
        } while (page.json().path("more").asBoolean());
        assertThat(retried).containsAll(storeDown).doesNotContain(mismatch, deleted).doesNotHaveDuplicates();
        for (String jobId : storeDown) {
            assertThat(http.get("/internal/v1/jobs/" + jobId).json().path("retriedBy").asString()).isNotEmpty();
        }
        // nothing is left to retry: a second call retries none of them again
        JsonNode again = http.postJson("/internal/v1/jobs/retry-failed", Map.of()).json();
        assertThat(again.path("more").asBoolean()).isFalse();
        assertThat(StreamSupport.stream(again.path("items").spliterator(), false).map(j -> j.path("retryOf").asString()))
                .doesNotContainAnyElementsOf(storeDown);
        assertThat(http.postJson("/internal/v1/jobs/retry-failed?limit=501", Map.of()).status()).isEqualTo(400);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                gauge(http.get("/actuator/prometheus").text(), "jobs_awaiting_retry")).isZero());
    }

    @Test
    void jobs_are_listed_newest_first_by_status_and_patient_in_pages_that_neither_skip_nor_repeat() {
        String patientId = aPatient();
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            failed.add(failedUpload(patientId, "STORAGE_UNAVAILABLE", true));
        }
        Map<String, Object> queued = anUpload(patientId, null);
        http.postJson("/internal/v1/uploads", queued);

        List<String> listed = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = http.get("/internal/v1/jobs?patientId=" + patientId + "&limit=2"
                    + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.path("items").forEach(job -> listed.add(job.path("jobId").asString()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        List<String> newestFirst = new ArrayList<>(failed);
        newestFirst.add(queued.get("jobId").toString());
        java.util.Collections.reverse(newestFirst);
        assertThat(listed).isEqualTo(newestFirst);

        JsonNode onlyFailed = http.get("/internal/v1/jobs?patientId=" + patientId + "&status=FAILED").json();
        assertThat(onlyFailed.path("items")).hasSize(3);
        onlyFailed.path("items").forEach(job -> assertThat(job.path("error").path("code").asString())
                .isEqualTo("STORAGE_UNAVAILABLE"));
        assertThat(jobIds(http.get("/internal/v1/jobs?status=FAILED&limit=500"))).containsAll(failed);
        // a clinician sees the jobs of the patients granted to them only
        assertThat(jobIds(http.get("/internal/v1/jobs?status=FAILED&limit=500", "X-Caller", "carol",
                "X-Caller-Roles", "clinician"))).doesNotContainAnyElementsOf(failed);

        for (String bad : List.of("status=SUCCEEDED", "", "status=LOST", "patientId=nope", "status=FAILED&cursor=x")) {
            TestHttp.Answer refused = http.get("/internal/v1/jobs?" + bad);
            assertThat(refused.status()).as(bad).isEqualTo(400);
        }
    }

    private static List<String> jobIds(TestHttp.Answer answer) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return StreamSupport.stream(answer.json().path("items").spliterator(), false)
                .map(j -> j.path("jobId").asString()).toList();
    }

    /** An upload whose job failed with this code, as a worker reports it. */
    private String failedUpload(String patientId, String code, boolean retryable) {
        Map<String, Object> upload = anUpload(patientId, null);
        http.postJson("/internal/v1/uploads", upload);
        String jobId = upload.get("jobId").toString();
        publish(fact(jobId, upload.get("imageId").toString()).setFailed(JobFailed.newBuilder().setCode(code)
                .setMessage("It failed.").setRetryable(retryable)).build());
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/jobs/" + jobId).json()
                .path("status").asString().equals("FAILED"));
        return jobId;
    }

    /** The types of the changes of one image in its patient's feed, oldest first. */
    private List<String> changeTypes(String patientId, String imageId) {
        List<String> types = new java.util.ArrayList<>();
        http.get("/internal/v1/changes?limit=500&patientId=" + patientId).json().path("items").forEach(c -> {
            if (c.path("imageId").asString().equals(imageId)) {
                types.add(c.path("type").asString());
            }
        });
        return types;
    }

    private boolean stagedBytesNeeded(String key) {
        TestHttp.Answer answer = http.get("/internal/v1/staging/" + key);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return answer.json().path("needed").asBoolean();
    }

    @Test
    void the_queued_jobs_and_how_long_the_oldest_waited_are_gauges_to_scale_the_workers_on() {
        String patientId = aPatient();
        Map<String, Object> upload = anUpload(patientId, null);
        assertThat(http.postJson("/internal/v1/uploads", upload).status()).isEqualTo(201);
        String jobId = upload.get("jobId").toString();
        // as if no worker had taken it for an hour
        jdbc.sql("update jobs set updated_at = now() - interval '1 hour' where id = ?")
                .param(UUID.fromString(jobId)).update();

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            String metrics = http.get("/actuator/prometheus").text();
            assertThat(gauge(metrics, "jobs_queued_oldest_seconds")).isBetween(3600.0, 3700.0);
            assertThat(gauge(metrics, "jobs_open{status=\"QUEUED\"}")).isGreaterThanOrEqualTo(1);
            assertThat(gauge(metrics, "jobs_open{status=\"RUNNING\"}")).isGreaterThanOrEqualTo(0);
        });

        workerFacts(jobId, upload.get("imageId").toString()).forEach(this::publish);
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/internal/v1/jobs/" + jobId).json().path("status").asString().equals("SUCCEEDED"));
        // the other tests' queued jobs waited minutes at most
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(gauge(http.get("/actuator/prometheus").text(), "jobs_queued_oldest_seconds")).isLessThan(3600.0));
    }

    /** The value of the one Prometheus sample whose name and labels are {@code sample}. */
    private static double gauge(String metrics, String sample) {
        return metrics.lines().filter(line -> line.startsWith(sample + " ")).mapToDouble(
                line -> Double.parseDouble(line.substring(sample.length() + 1).trim())).findFirst()
                .orElseThrow(() -> new AssertionError("no sample " + sample));
    }

    @Test
    void the_same_idempotency_key_returns_the_first_job_even_when_requests_race() throws Exception {
        String patientId = aPatient();
        String key = "key-" + UUID.randomUUID();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<CompletableFuture<TestHttp.Answer>> answers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                answers.add(CompletableFuture.supplyAsync(
                        () -> http.postJson("/internal/v1/uploads", anUpload(patientId, key)), pool));
            }
            List<String> jobIds = answers.stream().map(CompletableFuture::join)
                    .peek(a -> assertThat(a.status()).isIn(200, 201))
                    .map(a -> a.json().path("jobId").asString()).distinct().toList();
            assertThat(jobIds).hasSize(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(jdbc.sql("select count(*) from jobs where idempotency_key = ?").param(key).query(Long.class).single())
                .isEqualTo(1);
        assertThat(jdbc.sql("select count(*) from images where patient_id = ?::uuid").param(patientId)
                .query(Long.class).single()).isEqualTo(1);
    }

    @Test
    void bytes_that_do_not_match_the_declared_checksum_end_the_job_failed_at_once() {
        Map<String, Object> upload = anUpload(aPatient(), null);
        upload.put("declaredSha256", "cd".repeat(32));
        var answer = http.postJson("/internal/v1/uploads", upload);
        assertThat(answer.status()).isEqualTo(201);
        assertThat(answer.json().path("status").asString()).isEqualTo("FAILED");
        JsonNode job = http.get("/internal/v1/jobs/" + upload.get("jobId")).json();
        assertThat(job.path("status").asString()).isEqualTo("FAILED");
        assertThat(job.path("error").path("code").asString()).isEqualTo("CHECKSUM_MISMATCH");
        assertThat(eventTypes(upload.get("jobId").toString())).containsExactly("ACCEPTED", "FAILED");
        assertThat(http.get("/internal/v1/images/" + upload.get("imageId")).json().path("status").asString())
                .isEqualTo("FAILED");
        assertThat(jdbc.sql("select count(*) from outbox where message_key = ?").param(upload.get("jobId").toString())
                .query(Long.class).single()).isZero();
    }

    @Test
    void an_upload_for_an_unknown_patient_is_refused_and_nothing_is_written() {
        Map<String, Object> upload = anUpload(UUID.randomUUID().toString(), null);
        var answer = http.postJson("/internal/v1/uploads", upload);
        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        assertThat(jdbc.sql("select count(*) from jobs where id = ?::uuid").param(upload.get("jobId").toString())
                .query(Long.class).single()).isZero();
    }

    @Test
    void a_malformed_record_goes_to_the_dead_letter_topic_and_the_partition_keeps_flowing() throws Exception {
        String poisonKey = UUID.randomUUID().toString();
        kafka.send(Topics.JOB_EVENTS, poisonKey, new byte[] {(byte) 0xff, 0x01, 0x02}).get();
        ConsumerRecord<String, byte[]> dead = awaitRecord(Topics.JOB_EVENTS + Topics.DEAD_LETTER_SUFFIX, poisonKey);
        assertThat(dead.value()).containsExactly(0xff, 0x01, 0x02);

        String marker = UUID.randomUUID().toString();
        String jobId = registerMarkerJob(marker);
        await().atMost(Duration.ofSeconds(20)).until(() -> eventTypes(jobId).contains("STARTED"));

        // a poison record between good ones of the same job (one partition, most likely one poll): every good
        // one is recorded once, before and after it
        Map<String, Object> upload = anUpload(aPatient(), null);
        http.postJson("/internal/v1/uploads", upload);
        String job = upload.get("jobId").toString();
        List<JobEvent> facts = workerFacts(job, upload.get("imageId").toString());
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int i = 0; i < facts.size(); i++) {
            if (i == 2) {
                sent.add(kafka.send(Topics.JOB_EVENTS, job, new byte[] {(byte) 0xff, 0x03}));
            }
            sent.add(kafka.send(Topics.JOB_EVENTS, job, facts.get(i).toByteArray()));
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
        await().atMost(Duration.ofSeconds(20)).until(() -> eventTypes(job).contains("SUCCEEDED"));
        assertThat(eventTypes(job)).containsExactly("ACCEPTED", "STARTED", "PROGRESS", "STORED", "ATTRIBUTES_EXTRACTED",
                "SUCCEEDED");
        assertThat(awaitRecord(Topics.JOB_EVENTS + Topics.DEAD_LETTER_SUFFIX, job).value()).containsExactly(0xff, 0x03);
    }

    @Test
    void facts_of_several_jobs_in_one_poll_are_each_recorded_once_even_when_sent_twice() throws Exception {
        List<Map<String, Object>> uploads = List.of(anUpload(aPatient(), null), anUpload(aPatient(), null));
        List<List<JobEvent>> facts = new ArrayList<>();
        for (Map<String, Object> upload : uploads) {
            assertThat(http.postJson("/internal/v1/uploads", upload).status()).isEqualTo(201);
            facts.add(workerFacts(upload.get("jobId").toString(), upload.get("imageId").toString()));
        }
        // interleaved, every fact twice in a row, all on one partition (one key): as a loaded worker pool's
        // facts and a redelivery arrive, most likely in one poll, so in one transaction
        String key = uploads.get(0).get("jobId").toString();
        List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int i = 0; i < facts.get(0).size(); i++) {
            for (List<JobEvent> ofJob : facts) {
                for (int copy = 0; copy < 2; copy++) {
                    sent.add(kafka.send(Topics.JOB_EVENTS, key, ofJob.get(i).toByteArray()));
                }
            }
        }
        CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).join();
        for (Map<String, Object> upload : uploads) {
            String jobId = upload.get("jobId").toString();
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    http.get("/internal/v1/jobs/" + jobId).json().path("status").asString().equals("SUCCEEDED"));
            assertThat(eventTypes(jobId))
                    .containsExactly("ACCEPTED", "STARTED", "PROGRESS", "STORED", "ATTRIBUTES_EXTRACTED", "SUCCEEDED");
            JsonNode job = http.get("/internal/v1/jobs/" + jobId).json();
            assertThat(job.path("attempts").asInt()).isEqualTo(1);
            assertThat(job.path("progress").asInt()).isEqualTo(100);
            JsonNode image = http.get("/internal/v1/images/" + upload.get("imageId")).json();
            assertThat(image.path("status").asString()).isEqualTo("AVAILABLE");
            assertThat(image.path("objectKey").asString()).isEqualTo("images/" + upload.get("imageId") + "/original");
            assertThat(image.path("attributes").path("width").asInt()).isEqualTo(640);
        }
    }

    @Test
    void unknown_jobs_and_images_are_404_problems() {
        for (String path : List.of("/internal/v1/jobs/" + UUID.randomUUID(), "/internal/v1/jobs/not-a-uuid",
                "/internal/v1/images/" + UUID.randomUUID(), "/internal/v1/jobs/" + UUID.randomUUID() + "/events")) {
            var answer = http.get(path);
            assertThat(answer.status()).as(path).isEqualTo(404);
            assertThat(answer.contentType()).isEqualTo("application/problem+json");
            assertThat(answer.json().path("retryable").asBoolean(true)).isFalse();
        }
    }

    @Test
    void searches_images_by_every_filter_and_pages_through_them_stably() {
        String patient = aPatient();
        String other = aPatient();
        String knee = register(patient, "Left knee", "MRI of the knee", List.of("knee", "mri"), "application/dicom");
        String hand = register(patient, "Hand", "x-ray, 50% zoom", List.of("hand", "xray"), "image/png");
        String scan = register(patient, "Bone scan", null, List.of("knee", "ct"), "image/jpeg");
        String elsewhere = register(other, "Knee", null, List.of("knee", "mri"), "application/dicom");

        String p = "/internal/v1/images?patientId=" + patient;
        assertThat(ids(p + "&tag=knee&tag=mri")).containsExactly(knee);
        assertThat(ids(p + "&tag=knee&tag=mri&match=any")).containsExactly(scan, knee);
        assertThat(ids(p + "&contentType=image/png")).containsExactly(hand);
        assertThat(ids(p + "&q=KNEE")).containsExactly(knee);
        assertThat(ids(p + "&q=50%25")).containsExactly(hand);
        assertThat(ids(p + "&sort=name&order=asc")).containsExactly(scan, hand, knee);
        assertThat(ids(p + "&order=asc")).containsExactly(knee, hand, scan);
        assertThat(ids(p + "&status=AVAILABLE")).isEmpty();
        assertThat(ids("/internal/v1/patients/" + patient + "/images?tag=knee")).containsExactly(scan, knee);
        assertThat(ids("/internal/v1/images?tag=knee&tag=mri")).contains(knee, elsewhere).doesNotContain(hand);
        String uploadedAt = http.get("/internal/v1/images/" + hand).json().path("uploadedAt").asString();
        assertThat(ids(p + "&from=" + uploadedAt)).containsExactly(scan, hand);
        assertThat(ids(p + "&to=" + uploadedAt)).containsExactly(knee);
        assertThat(http.get(p + "&colour=red").json().path("code").asString()).isEqualTo("INVALID_PARAMETER");

        // one item a page, with a new upload arriving between pages: no repeats, no gaps
        List<String> seen = new ArrayList<>();
        String cursor = null;
        boolean inserted = false;
        do {
            JsonNode page = http.get(p + "&limit=1" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.path("items").forEach(i -> seen.add(i.path("imageId").asString()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
            if (!inserted) {
                register(patient, "Late", null, List.of(), "image/png");
                inserted = true;
            }
        } while (cursor != null);
        assertThat(seen).containsExactly(scan, hand, knee);
    }

    @Test
    void tags_names_and_deletion_of_images_and_patients() throws Exception {
        String patient = aPatient();
        Map<String, Object> upload = anUpload(patient, null);
        http.postJson("/internal/v1/uploads", upload);
        String jobId = upload.get("jobId").toString();
        String imageId = upload.get("imageId").toString();
        String image = "/internal/v1/images/" + imageId;

        var busy = http.send("DELETE", image, null);
        assertThat(busy.status()).isEqualTo(409);
        assertThat(busy.json().path("code").asString()).isEqualTo("IMAGE_BUSY");
        workerFacts(jobId, imageId).forEach(this::publish);
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get(image).json().path("status").asString().equals("AVAILABLE"));

        assertThat(http.send("PUT", image + "/tags", Map.of("tags", List.of(" Left", "KNEE"))).json().path("tags").toString())
                .isEqualTo("[\"knee\",\"left\"]");
        assertThat(http.send("POST", image + "/tags", Map.of("tags", List.of("mri"))).json().path("tags").toString())
                .isEqualTo("[\"knee\",\"left\",\"mri\"]");
        assertThat(http.send("DELETE", image + "/tags/LEFT", null).status()).isEqualTo(204);
        assertThat(ids("/internal/v1/images?tag=left&patientId=" + patient)).isEmpty();
        assertThat(ids("/internal/v1/images?tag=mri&tag=knee&patientId=" + patient)).containsExactly(imageId);
        assertThat(http.send("PUT", image + "/tags", Map.of("tags", List.of("bad tag"))).json().path("code").asString())
                .isEqualTo("INVALID_TAG");
        var many = http.send("POST", image + "/tags",
                Map.of("tags", java.util.stream.IntStream.range(0, 49).mapToObj(i -> "t" + i).toList()));
        assertThat(many.json().path("code").asString()).isEqualTo("TOO_MANY_TAGS");

        JsonNode patched = http.send("PATCH", image, Map.of("name", "Right knee")).json();
        assertThat(patched.path("name").asString()).isEqualTo("Right knee");
        assertThat(patched.path("description").asString()).isEqualTo(http.get(image).json().path("description").asString());

        assertThat(http.get("/internal/v1/patients/" + patient).json().path("imageCount").asLong()).isEqualTo(1);
        var refused = http.send("DELETE", "/internal/v1/patients/" + patient, null);
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.json().path("code").asString()).isEqualTo("PATIENT_HAS_IMAGES");

        // purged: its objects go at once (a plain deletion keeps them for the recovery window: RecoveryWindowIT)
        assertThat(http.send("DELETE", image + "?purge=true", null).status()).isEqualTo(204);
        assertThat(http.get(image).status()).isEqualTo(404);
        assertThat(ids("/internal/v1/images?patientId=" + patient)).isEmpty();
        ImageDeleted deleted = ImageDeleted.parseFrom(awaitRecord(Topics.IMAGE_DELETIONS, imageId).value());
        assertThat(deleted.getObjectPrefix()).isEqualTo("images/" + imageId + "/");
        assertThat(http.get("/internal/v1/patients/" + patient).json().path("imageCount").asLong()).isZero();

        String other = aPatient();
        register(other, "x", null, List.of(), "image/png");
        assertThat(http.send("PATCH", "/internal/v1/patients/" + other, Map.of("name", "Renamed")).json()
                .path("name").asString()).isEqualTo("Renamed");
        assertThat(http.send("DELETE", "/internal/v1/patients/" + patient, null).status()).isEqualTo(204);
        assertThat(http.get("/internal/v1/patients/" + patient).status()).isEqualTo(404);
    }

    @Test
    void dicom_attributes_thumbnails_and_skipped_steps_are_recorded_and_searchable() throws Exception {
        String patient = aPatient();
        Map<String, Object> ct = anUpload(patient, null);
        Map<String, Object> mr = anUpload(patient, null);
        http.postJson("/internal/v1/uploads", ct);
        http.postJson("/internal/v1/uploads", mr);
        String ctImage = ct.get("imageId").toString();
        String mrImage = mr.get("imageId").toString();
        complete(ct, "{\"dicom\":{\"Modality\":\"CT\",\"StudyInstanceUID\":\"1.2.3\","
                + "\"SeriesInstanceUID\":\"1.2.3.1\",\"SOPInstanceUID\":\"1.2.3.1.7\"}}",
                fact(ct.get("jobId").toString(), ctImage).setThumbnailRendered(ThumbnailRendered.newBuilder()
                        .setObjectKey("images/" + ctImage + "/thumbnail.png").setWidth(256).setHeight(200)).build());
        complete(mr, "{\"dicom\":{\"Modality\":\"MR\",\"StudyInstanceUID\":\"1.2.4\","
                + "\"SeriesInstanceUID\":\"1.2.4.1\",\"SOPInstanceUID\":\"1.2.4.1.7\"}}",
                fact(mr.get("jobId").toString(), mrImage).setStepSkipped(StepSkipped.newBuilder()
                        .setStep("THUMBNAIL").setReason("compressed DICOM pixel data is not rendered")).build());
        await().atMost(Duration.ofSeconds(20)).until(() -> ids("/internal/v1/images?status=AVAILABLE&patientId=" + patient).size() == 2);

        String p = "/internal/v1/images?patientId=" + patient;
        assertThat(ids(p + "&modality=ct")).containsExactly(ctImage);
        assertThat(ids(p + "&studyInstanceUid=1.2.4")).containsExactly(mrImage);
        assertThat(ids(p + "&modality=CT&studyInstanceUid=1.2.4")).isEmpty();
        assertThat(ids(p + "&seriesInstanceUid=1.2.3.1")).containsExactly(ctImage);
        assertThat(ids("/internal/v1/images?sopInstanceUid=1.2.4.1.7")).containsExactly(mrImage);
        assertThat(ids(p + "&seriesInstanceUid=1.2.3.1&sopInstanceUid=1.2.4.1.7")).isEmpty();
        assertThat(http.get("/internal/v1/images/" + ctImage).json().path("thumbnailKey").asString())
                .isEqualTo("images/" + ctImage + "/thumbnail.png");
        assertThat(http.get("/internal/v1/images/" + mrImage).json().path("thumbnailKey").isNull()).isTrue();
        JsonNode skipped = StreamSupport.stream(http.get("/internal/v1/jobs/" + mr.get("jobId") + "/events").json()
                .path("items").spliterator(), false).filter(e -> e.path("type").asString().equals("STEP_SKIPPED"))
                .findFirst().orElseThrow();
        assertThat(skipped.path("detail").path("step").asString()).isEqualTo("THUMBNAIL");
        assertThat(eventTypes(ct.get("jobId").toString())).containsExactly("ACCEPTED", "STARTED", "PROGRESS", "STORED",
                "ATTRIBUTES_EXTRACTED", "THUMBNAIL_RENDERED", "SUCCEEDED");
    }

    @Test
    void images_are_found_by_the_date_they_were_taken_from_a_dicom_study_date_or_an_exif_capture_time() {
        String patient = aPatient();
        Map<String, String> attributes = new java.util.LinkedHashMap<>();
        attributes.put("ct", "{\"dicom\":{\"Modality\":\"CT\",\"StudyDate\":\"20240315\"}}");
        attributes.put("photo", "{\"width\":10,\"exif\":{\"captureTime\":\"2023-07-01T18:30:00Z\"}}");
        attributes.put("no date", "{\"dicom\":{\"Modality\":\"MR\",\"StudyDate\":\"20230230\"}}");
        attributes.put("nothing", "{\"width\":10}");
        Map<String, String> images = new java.util.HashMap<>();
        attributes.forEach((what, json) -> {
            Map<String, Object> upload = anUpload(patient, null);
            http.postJson("/internal/v1/uploads", upload);
            images.put(what, upload.get("imageId").toString());
            complete(upload, json, fact(upload.get("jobId").toString(), upload.get("imageId").toString())
                    .setStepSkipped(StepSkipped.newBuilder().setStep("THUMBNAIL").setReason("not rendered")).build());
        });
        await().atMost(Duration.ofSeconds(20)).until(() ->
                ids("/internal/v1/images?status=AVAILABLE&patientId=" + patient).size() == 4);

        assertThat(http.get("/internal/v1/images/" + images.get("ct")).json().path("takenOn").asString())
                .isEqualTo("2024-03-15");
        assertThat(http.get("/internal/v1/images/" + images.get("photo")).json().path("takenOn").asString())
                .isEqualTo("2023-07-01");
        // a date that is no calendar date, and no date at all: nothing, and no error
        assertThat(http.get("/internal/v1/images/" + images.get("no date")).json().path("takenOn").isNull()).isTrue();
        assertThat(http.get("/internal/v1/images/" + images.get("nothing")).json().path("takenOn").isNull()).isTrue();
        String p = "/internal/v1/images?patientId=" + patient;
        assertThat(ids(p + "&takenFrom=2024-01-01")).containsExactly(images.get("ct"));
        assertThat(ids(p + "&takenTo=2023-12-31")).containsExactly(images.get("photo"));
        assertThat(ids(p + "&takenFrom=2023-07-01&takenTo=2024-03-15"))
                .containsExactlyInAnyOrder(images.get("ct"), images.get("photo"));
        assertThat(ids(p + "&takenFrom=2023-07-02&takenTo=2024-03-14")).isEmpty();
        assertThat(ids(p + "&takenFrom=2024-03-15&modality=CT")).containsExactly(images.get("ct"));
        assertThat(http.get(p + "&takenFrom=yesterday").status()).isEqualTo(400);
    }

    @Test
    void the_same_bytes_again_for_the_same_patient_are_stored_as_a_duplicate_of_the_first() {
        String patient = aPatient();
        Map<String, Object> first = anUpload(patient, null);
        http.postJson("/internal/v1/uploads", first);
        Map<String, Object> again = anUpload(patient, null);
        again.put("sha256", first.get("sha256"));
        var answer = http.postJson("/internal/v1/uploads", again);
        assertThat(answer.status()).isEqualTo(201);
        assertThat(answer.json().path("status").asString()).isEqualTo("QUEUED");
        assertThat(answer.json().path("duplicateOf").asString()).isEqualTo(first.get("imageId").toString());
        assertThat(http.get("/internal/v1/images/" + again.get("imageId")).json().path("duplicateOf").asString())
                .isEqualTo(first.get("imageId").toString());
        assertThat(http.get("/internal/v1/images/" + first.get("imageId")).json().path("duplicateOf").isNull()).isTrue();

        Map<String, Object> otherPatient = anUpload(aPatient(), null);
        otherPatient.put("sha256", first.get("sha256"));
        assertThat(http.postJson("/internal/v1/uploads", otherPatient).json().path("duplicateOf").isNull()).isTrue();
    }

    // --- fixtures

    /** Sends the facts of a worker that stored the upload, read the given attributes and did one more step. */
    private void complete(Map<String, Object> upload, String attributesJson, JobEvent step) {
        String jobId = upload.get("jobId").toString();
        String imageId = upload.get("imageId").toString();
        List<JobEvent> facts = new ArrayList<>(workerFacts(jobId, imageId));
        facts.set(3, fact(jobId, imageId).setAttributesExtracted(AttributesExtracted.newBuilder()
                .setAttributesJson(attributesJson)).build());
        facts.add(4, step);
        facts.forEach(this::publish);
    }

    private String register(String patientId, String name, String description, List<String> tags, String type) {
        Map<String, Object> upload = anUpload(patientId, null);
        upload.put("name", name);
        upload.put("description", description);
        upload.put("tags", tags);
        upload.put("contentType", type);
        assertThat(http.postJson("/internal/v1/uploads", upload).status()).isEqualTo(201);
        return upload.get("imageId").toString();
    }

    private List<String> ids(String path) {
        TestHttp.Answer answer = http.get(path);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return StreamSupport.stream(answer.json().path("items").spliterator(), false)
                .map(i -> i.path("imageId").asString()).toList();
    }

    private String aPatient() {
        return Uploads.aPatient(http);
    }

    private static Map<String, Object> anUpload(String patientId, String idempotencyKey) {
        return Uploads.anUpload(patientId, idempotencyKey);
    }

    /** Registers a job and sends it a STARTED fact: once recorded, everything sent before it was consumed. */
    private String registerMarkerJob(String marker) {
        Map<String, Object> upload = anUpload(aPatient(), marker);
        http.postJson("/internal/v1/uploads", upload);
        String jobId = upload.get("jobId").toString();
        publish(fact(jobId, upload.get("imageId").toString()).setStarted(JobStarted.newBuilder().setWorkerId("m")).build());
        return jobId;
    }

    private static List<JobEvent> workerFacts(String jobId, String imageId) {
        return List.of(
                fact(jobId, imageId).setStarted(JobStarted.newBuilder().setWorkerId("w1")).build(),
                fact(jobId, imageId).setProgressed(JobProgressed.newBuilder().setPercent(50).setBytesStored(617)).build(),
                fact(jobId, imageId).setStored(ImageStored.newBuilder().setBucket("patient-images")
                        .setObjectKey("images/" + imageId + "/original").setSizeBytes(1234).setSha256("ab".repeat(32)))
                        .build(),
                fact(jobId, imageId).setAttributesExtracted(AttributesExtracted.newBuilder()
                        .setAttributesJson("{\"width\":640,\"height\":480}")).build(),
                fact(jobId, imageId).setSucceeded(JobSucceeded.getDefaultInstance()).build());
    }

    private static JobEvent.Builder fact(String jobId, String imageId) {
        return Uploads.fact(jobId, imageId);
    }

    private void publish(JobEvent event) {
        kafka.send(Topics.JOB_EVENTS, event.getJobId(), event.toByteArray()).join();
    }

    private List<String> eventTypes(String jobId) {
        return StreamSupport.stream(http.get("/internal/v1/jobs/" + jobId + "/events").json().path("items").spliterator(),
                false).map(e -> e.path("type").asString()).toList();
    }

    private ConsumerRecord<String, byte[]> awaitRecord(String topic, String key) {
        return awaitRecords(topic, key, 1).get(0);
    }

    /** At least {@code count} records of the key on the topic, from its start. */
    private List<ConsumerRecord<String, byte[]>> awaitRecords(String topic, String key, int count) {
        return KafkaRecords.awaitRecords(broker, topic, key::equals, count);
    }
}
