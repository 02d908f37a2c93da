package org.patientimages.metadata;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.Derivation;
import org.patientimages.events.v1.IntegrityCheckRequested;
import org.patientimages.events.v1.IntegrityChecked;
import org.patientimages.events.v1.IntegrityChecked.Outcome;
import org.patientimages.events.v1.StepSkipped;
import org.patientimages.events.v1.ThumbnailRendered;
import org.patientimages.metadata.Uploads.Stored;
import org.patientimages.metadata.integrity.IntegrityChecks;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Integrity checks against a real PostgreSQL and a real Kafka broker: what is asked of the workers, and how their
 * answers are recorded. The workers' side (reading objects back) is in the end-to-end tests.
 */
class IntegrityChecksIT extends RunningService {

    @Autowired
    IntegrityChecks checks;

    @Test
    void an_asked_for_check_reaches_the_workers_and_its_answer_shows_on_the_image_and_in_searches() throws Exception {
        Stored image = anAvailableImage();
        String path = "/internal/v1/images/" + image.imageId();
        JsonNode before = http.get(path).json().path("integrity");
        assertThat(before.path("status").asString()).isEqualTo("UNCHECKED");
        assertThat(before.path("checkedAt").isNull()).isTrue();

        var asked = http.send("POST", path + "/integrity-checks", null);
        assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
        String requestedAt = asked.json().path("integrity").path("checkRequestedAt").asString();
        assertThat(requestedAt).isNotBlank();

        IntegrityCheckRequested request = requestOf(image.imageId());
        assertThat(request.getObjectKey()).isEqualTo("images/" + image.imageId() + "/original");
        assertThat(request.getBucket()).isEqualTo("patient-images");
        assertThat(request.getSizeBytes()).isEqualTo(image.size());
        assertThat(request.getSha256()).isEqualTo(image.sha256());
        assertThat(Instant.ofEpochMilli(request.getRequestedAtEpochMs())).isEqualTo(Instant.parse(requestedAt));

        Instant checkedAt = Instant.now();
        answer(request, Outcome.CORRUPT, checkedAt);
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get(path).json().path("integrity").path("status").asString().equals("CORRUPT"));
        JsonNode after = http.get(path).json().path("integrity");
        assertThat(Instant.parse(after.path("checkedAt").asString())).isEqualTo(checkedAt.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        assertThat(after.path("checkRequestedAt").isNull()).as("answered: no longer in flight").isTrue();
        assertThat(itemIds(http.get("/internal/v1/patients/" + image.patientId() + "/images?integrity=CORRUPT").json(),
                "imageId"))
                .containsExactly(image.imageId());
        assertThat(itemIds(http.get("/internal/v1/patients/" + image.patientId() + "/images?integrity=INTACT").json(),
                "imageId")).isEmpty();

        // an answer older than the one recorded (delivered late, or again) changes nothing
        answer(request, Outcome.INTACT, checkedAt.minusSeconds(60));
        Stored marker = anAvailableImage();
        IntegrityCheckRequested markerRequest = request(marker);
        answer(markerRequest, Outcome.INTACT, Instant.now());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/internal/v1/images/" + marker.imageId()).json().path("integrity").path("status").asString()
                        .equals("INTACT"));
        assertThat(http.get(path).json().path("integrity").path("status").asString()).isEqualTo("CORRUPT");

        // a later one does: the object was put back
        answer(request, Outcome.INTACT, Instant.now());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get(path).json().path("integrity").path("status").asString().equals("INTACT"));
    }

    @Test
    void a_check_is_refused_for_an_image_not_stored_and_unknown_for_one_that_does_not_exist() {
        String patientId = Uploads.aPatient(http);
        Map<String, Object> upload = Uploads.anUpload(patientId, null);
        http.postJson("/internal/v1/uploads", upload);
        var pending = http.send("POST", "/internal/v1/images/" + upload.get("imageId") + "/integrity-checks", null);
        assertThat(pending.status()).isEqualTo(409);
        assertThat(pending.contentType()).isEqualTo("application/problem+json");
        assertThat(pending.json().path("code").asString()).isEqualTo("IMAGE_NOT_AVAILABLE");
        var unknown = http.send("POST", "/internal/v1/images/" + UUID.randomUUID() + "/integrity-checks", null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("code").asString()).isEqualTo("IMAGE_NOT_FOUND");
        assertThat(jdbc.sql("select integrity_requested_at from images where id = ?").param(upload.get("imageId"))
                .query(java.sql.Timestamp.class).optional()).isEmpty();
        var badFilter = http.get("/internal/v1/images?integrity=BROKEN");
        assertThat(badFilter.status()).isEqualTo(400);
        assertThat(badFilter.json().path("detail").asString()).contains("integrity must be one of");
    }

    @Test
    void the_oldest_due_images_are_asked_for_at_most_eight_in_flight_more_as_answers_come_and_a_lost_answer_again() {
        // ten images stored 31 to 40 days ago: due (every 30 days); none checked yet
        List<Stored> due = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Stored image = anAvailableImage();
            jdbc.sql("update images set stored_at = now() - make_interval(days => ?) where id = ?")
                    .params(40 - i, UUID.fromString(image.imageId())).update();
            due.add(image);
        }
        Set<String> ours = due.stream().map(Stored::imageId).collect(Collectors.toSet());
        assertThat(inFlight()).as("nothing in flight from the other tests").isZero();

        assertThat(checks.requestDue()).isEqualTo(8);
        assertThat(checks.requestDue()).as("the window is full").isZero();
        List<IntegrityCheckRequested> first = requests(ours, 8);
        assertThat(first).extracting(IntegrityCheckRequested::getImageId)
                .containsExactlyInAnyOrderElementsOf(due.subList(0, 8).stream().map(Stored::imageId).toList());

        // three answers make room for three, taken at once as the answers come: the two still due, and nothing else
        // (the answered ones are checked now)
        for (IntegrityCheckRequested r : first.subList(0, 3)) {
            answer(r, Outcome.INTACT, Instant.now());
        }
        assertThat(requests(ours, 10)).extracting(IntegrityCheckRequested::getImageId)
                .containsAll(due.subList(8, 10).stream().map(Stored::imageId).toList());
        await().atMost(Duration.ofSeconds(20)).until(() -> inFlight() == 7);
        assertThat(checks.requestDue()).isZero();

        // an answer lost for an hour: asked again, in place of a new check
        UUID lost = UUID.fromString(first.get(5).getImageId());
        jdbc.sql("update images set integrity_requested_at = now() - interval '2 hours' where id = ?").param(lost).update();
        assertThat(checks.requestDue()).isEqualTo(1);
        List<IntegrityCheckRequested> all = requests(ours, 11);
        assertThat(all.stream().filter(r -> r.getImageId().equals(lost.toString())).count()).isEqualTo(2);

        // answered: nothing of ours is in flight, and nothing is due for another 30 days
        Map<String, IntegrityCheckRequested> latest = all.stream().collect(Collectors.toMap(
                IntegrityCheckRequested::getImageId, r -> r, (a, b) -> a.getRequestedAtEpochMs() > b.getRequestedAtEpochMs() ? a : b));
        latest.values().forEach(r -> answer(r, Outcome.INTACT, Instant.now()));
        await().atMost(Duration.ofSeconds(20)).until(() -> inFlight() == 0);
        assertThat(checks.requestDue()).isZero();
    }

    @Test
    void an_image_derived_again_takes_what_the_worker_read_from_intact_bytes_only_and_is_a_change_in_the_feed() {
        Stored image = Uploads.anAvailableImage(http, kafka, Uploads.aPatient(http), "{\"width\": 1}");
        String path = "/internal/v1/images/" + image.imageId();
        String cursor = http.get("/internal/v1/changes?start=latest").json().path("nextCursor").asString();
        var clinician = http.send("POST", path + "/derivations", null, "X-Caller", "dr-who", "X-Caller-Roles",
                "clinician");
        assertThat(clinician.status()).isEqualTo(403);
        assertThat(http.get(path).json().path("derivation").path("requestedAt").isNull()).isTrue();

        IntegrityCheckRequested first = derive(image);
        assertThat(first.getDerive()).isTrue();
        assertThat(first.getContentType()).isEqualTo("image/png");
        // the object is corrupt: nothing derived from it, the derivation answered all the same
        answer(first, Outcome.CORRUPT, Instant.now(), Derivation.getDefaultInstance());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get(path).json().path("derivation").path("requestedAt").isNull());
        JsonNode corrupt = http.get(path).json();
        assertThat(corrupt.path("integrity").path("status").asString()).isEqualTo("CORRUPT");
        assertThat(corrupt.path("derivation").path("derivedAt").isNull()).isTrue();
        assertThat(corrupt.path("attributes").path("width").asInt()).isEqualTo(1);

        // put back and asked again: what the worker read replaces the attributes, and the thumbnail is recorded
        IntegrityCheckRequested second = derive(image);
        Instant checkedAt = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        String thumbnailKey = "images/" + image.imageId() + "/thumbnail.png";
        answer(second, Outcome.INTACT, checkedAt, Derivation.newBuilder()
                .setAttributesJson("{\"width\": 640, \"height\": 480}")
                .setThumbnail(ThumbnailRendered.newBuilder().setObjectKey(thumbnailKey).setWidth(256).setHeight(192))
                .build());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get(path).json().path("derivation").path("requestedAt").isNull());
        JsonNode derived = http.get(path).json();
        assertThat(derived.path("attributes").path("width").asInt()).isEqualTo(640);
        assertThat(derived.path("thumbnailKey").asString()).isEqualTo(thumbnailKey);
        assertThat(Instant.parse(derived.path("derivation").path("derivedAt").asString())).isEqualTo(checkedAt);
        assertThat(derived.path("integrity").path("status").asString()).isEqualTo("INTACT");
        // a step the worker could not do keeps what the image had
        IntegrityCheckRequested third = derive(image);
        answer(third, Outcome.INTACT, Instant.now(), Derivation.newBuilder().addSkipped(StepSkipped.newBuilder()
                .setStep("THUMBNAIL").setReason("the image could not be rendered")).build());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get(path).json().path("derivation").path("requestedAt").isNull());
        assertThat(http.get(path).json().path("thumbnailKey").asString()).isEqualTo(thumbnailKey);
        assertThat(http.get(path).json().path("attributes").path("width").asInt()).isEqualTo(640);

        JsonNode changes = http.get("/internal/v1/changes?patientId=" + image.patientId() + "&cursor=" + cursor).json();
        List<String> types = new ArrayList<>();
        changes.path("items").forEach(c -> types.add(c.path("type").asString()));
        assertThat(types).as("one change for the derivation that changed the image").containsExactly("UPDATED");
    }

    @Test
    void a_thumbnail_made_for_an_image_purged_meanwhile_is_removed_again_and_one_deleted_but_restorable_is_kept() {
        Stored purged = anAvailableImage();
        IntegrityCheckRequested request = derive(purged);
        assertThat(http.send("DELETE", "/internal/v1/images/" + purged.imageId() + "?purge=true", null).status())
                .isEqualTo(204);
        assertThat(KafkaRecords.awaitRecords(broker, Topics.IMAGE_DELETIONS, purged.imageId()::equals, 1)).hasSize(1);
        answer(request, Outcome.INTACT, Instant.now(), Derivation.newBuilder().setThumbnail(ThumbnailRendered
                .newBuilder().setObjectKey("images/" + purged.imageId() + "/thumbnail.png")).build());
        assertThat(KafkaRecords.awaitRecords(broker, Topics.IMAGE_DELETIONS, purged.imageId()::equals, 2))
                .as("its objects removed once more").hasSize(2);

        // deleted within its recovery window: its objects stay for a restore, the new thumbnail with them
        Stored restorable = anAvailableImage();
        IntegrityCheckRequested second = derive(restorable);
        assertThat(http.send("DELETE", "/internal/v1/images/" + restorable.imageId(), null).status()).isEqualTo(204);
        answer(second, Outcome.INTACT, Instant.now(), Derivation.newBuilder().setThumbnail(ThumbnailRendered
                .newBuilder().setObjectKey("images/" + restorable.imageId() + "/thumbnail.png")).build());
        // a marker's answer on the same partition, after it: once the marker is recorded, so was that answer
        Stored marker = anAvailableImage();
        IntegrityCheckRequested markerRequest = request(marker);
        kafka.send(Topics.INTEGRITY_RESULTS, restorable.imageId(), IntegrityChecked.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setImageId(marker.imageId()).setOutcome(Outcome.INTACT)
                .setSizeBytesFound(marker.size()).setSha256Found(marker.sha256())
                .setCheckedAtEpochMs(System.currentTimeMillis())
                .setRequestedAtEpochMs(markerRequest.getRequestedAtEpochMs()).setWorkerId("test").build()
                .toByteArray()).join();
        await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/images/" + marker.imageId()).json()
                .path("integrity").path("status").asString().equals("INTACT"));
        assertThat(KafkaRecords.recordsToEnd(broker, Topics.IMAGE_DELETIONS, restorable.imageId()::equals)).isEmpty();
    }

    @Test
    void images_asked_for_by_content_type_are_sent_to_the_workers_first_within_the_in_flight_limit() {
        // images of a content type of their own, so that no other test's images are asked for
        String type = "application/x-derive-" + UUID.randomUUID().toString().substring(0, 8);
        List<Stored> images = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            Stored image = anAvailableImage();
            jdbc.sql("update images set content_type = ?, thumbnail_key = case when ? then 'images/x/thumbnail.png' end"
                    + " where id = ?").params(type, i >= 10, UUID.fromString(image.imageId())).update();
            images.add(image);
        }
        Set<String> withoutThumbnail = images.subList(0, 10).stream().map(Stored::imageId).collect(Collectors.toSet());
        assertThat(inFlight()).as("nothing in flight from the other tests").isZero();

        var refused = http.send("POST", "/internal/v1/images/derivations?contentType=image/png;q=1", null);
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.json().path("code").asString()).isEqualTo("INVALID_CONTENT_TYPE");
        assertThat(http.send("POST", "/internal/v1/images/derivations", null, "X-Caller", "dr-who",
                "X-Caller-Roles", "clinician").status()).isEqualTo(403);

        // one patient's images first (each of these images is of a patient of its own), then the content type's
        var unknown = http.send("POST", "/internal/v1/images/derivations?patientId=" + UUID.randomUUID(), null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        var onePatient = http.send("POST", "/internal/v1/images/derivations?patientId=" + images.get(0).patientId(),
                null);
        assertThat(onePatient.status()).as(onePatient.toString()).isEqualTo(202);
        assertThat(onePatient.json().path("requested").asInt()).isEqualTo(1);
        var asked = http.send("POST", "/internal/v1/images/derivations?contentType=" + type + "&withoutThumbnail=true",
                null);
        assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
        assertThat(asked.json().path("requested").asInt()).as("the one waiting already not again").isEqualTo(9);
        // eight sent at once, each to derive; the two others as answers make room
        List<IntegrityCheckRequested> first = requests(withoutThumbnail, 8);
        assertThat(first).allSatisfy(r -> {
            assertThat(r.getDerive()).isTrue();
            assertThat(r.getContentType()).isEqualTo(type);
        });
        assertThat(checks.requestDue()).as("the window is full").isZero();
        for (IntegrityCheckRequested r : first.subList(0, 2)) {
            answer(r, Outcome.INTACT, Instant.now(), Derivation.getDefaultInstance());
        }
        List<IntegrityCheckRequested> all = requests(withoutThumbnail, 10);
        assertThat(all).extracting(IntegrityCheckRequested::getImageId)
                .containsExactlyInAnyOrderElementsOf(withoutThumbnail);
        all.forEach(r -> answer(r, Outcome.INTACT, Instant.now(), Derivation.getDefaultInstance()));
        await().atMost(Duration.ofSeconds(20)).until(() -> inFlight() == 0);
        assertThat(jdbc.sql("select count(*) from images where derive_requested_at is not null").query(Long.class)
                .single()).isZero();
        assertThat(jdbc.sql("select count(*) from images where content_type = ? and derived_at is not null")
                .param(type).query(Long.class).single()).isEqualTo(10);
    }

    private long inFlight() {
        return jdbc.sql("select count(*) from images where integrity_requested_at is not null").query(Long.class).single();
    }

    private Stored anAvailableImage() {
        return Uploads.anAvailableImage(http, kafka);
    }

    private IntegrityCheckRequested request(Stored image) {
        assertThat(http.send("POST", "/internal/v1/images/" + image.imageId() + "/integrity-checks", null).status())
                .isEqualTo(202);
        return requestOf(image.imageId());
    }

    private IntegrityCheckRequested requestOf(String imageId) {
        return parse(KafkaRecords.awaitRecords(broker, Topics.INTEGRITY_CHECKS, imageId::equals, 1).get(0));
    }

    /** At least {@code count} requests for the given images, from the topic's start. */
    private List<IntegrityCheckRequested> requests(Set<String> imageIds, int count) {
        return KafkaRecords.awaitRecords(broker, Topics.INTEGRITY_CHECKS, imageIds::contains, count).stream()
                .map(IntegrityChecksIT::parse).toList();
    }

    private static IntegrityCheckRequested parse(ConsumerRecord<String, byte[]> record) {
        try {
            return IntegrityCheckRequested.parseFrom(record.value());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    /** Asks for an image to be derived again; the request the workers are sent (the newest of the image's). */
    private IntegrityCheckRequested derive(Stored image) {
        var asked = http.send("POST", "/internal/v1/images/" + image.imageId() + "/derivations", null);
        assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
        long requestedAt = Instant.parse(asked.json().path("derivation").path("requestedAt").asString()).toEpochMilli();
        assertThat(asked.json().path("integrity").path("checkRequestedAt").asString()).isNotBlank();
        return await().atMost(Duration.ofSeconds(30)).until(() -> KafkaRecords.recordsToEnd(broker,
                        Topics.INTEGRITY_CHECKS, image.imageId()::equals).stream().map(IntegrityChecksIT::parse)
                .filter(r -> r.getRequestedAtEpochMs() == requestedAt).findFirst(), java.util.Optional::isPresent).get();
    }

    /** A worker's answer to a request. */
    private void answer(IntegrityCheckRequested request, Outcome outcome, Instant checkedAt) {
        answer(request, outcome, checkedAt, null);
    }

    /** A worker's answer to a request, with what it derived again (when not null). */
    private void answer(IntegrityCheckRequested request, Outcome outcome, Instant checkedAt, Derivation derivation) {
        IntegrityChecked.Builder result = IntegrityChecked.newBuilder().setEventId(UUID.randomUUID().toString())
                .setImageId(request.getImageId()).setRequestEventId(request.getEventId()).setOutcome(outcome)
                .setSizeBytesFound(request.getSizeBytes()).setSha256Found(request.getSha256())
                .setCheckedAtEpochMs(checkedAt.toEpochMilli()).setRequestedAtEpochMs(request.getRequestedAtEpochMs())
                .setWorkerId("test");
        if (derivation != null) {
            result.setDerivation(derivation);
        }
        kafka.send(Topics.INTEGRITY_RESULTS, request.getImageId(), result.build().toByteArray()).join();
    }
}
