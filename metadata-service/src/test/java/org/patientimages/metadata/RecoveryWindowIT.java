package org.patientimages.metadata;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.ImageDeleted;
import org.patientimages.metadata.Uploads.Stored;
import org.patientimages.metadata.image.ImageLifecycle;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Deleting with a recovery window, against a real PostgreSQL and Kafka: a deleted image keeps its objects (no
 * {@code ImageDeleted} is published) until its window closes or an admin purges it, and an admin may restore it, or
 * its patient with the images deleted with it, meanwhile. A legal hold on a patient keeps everything of it.
 */
class RecoveryWindowIT extends RunningService {

    private static final String[] CLINICIAN = {"X-Caller", "dr-who", "X-Caller-Roles", "clinician"};

    @Autowired
    ImageLifecycle lifecycle;

    @Test
    void a_deleted_image_keeps_its_objects_can_be_restored_as_it_was_and_is_purged_when_its_window_closes() {
        Stored image = Uploads.anAvailableImage(http, kafka);
        String path = "/internal/v1/images/" + image.imageId();
        assertThat(http.send("PUT", path + "/tags", Map.of("tags", List.of("knee", "left"))).status()).isEqualTo(200);

        assertThat(http.send("DELETE", path, null).status()).isEqualTo(204);
        assertThat(http.get(path).status()).isEqualTo(404);
        assertThat(deletionsOf(image.imageId())).as("objects kept: no ImageDeleted").isEmpty();

        // admins find it among the deleted images, restorable for the 7 days of the default window
        JsonNode deleted = trashed(image);
        Instant deletedAt = Instant.parse(deleted.path("deletion").path("deletedAt").asString());
        Instant until = Instant.parse(deleted.path("deletion").path("restorableUntil").asString());
        assertThat(Duration.between(deletedAt, until)).isEqualTo(Duration.ofDays(7));
        assertThat(ids("/internal/v1/images?patientId=" + image.patientId())).isEmpty();
        // a clinician neither lists, restores nor purges deleted images
        assertThat(http.get("/internal/v1/images?status=DELETED", CLINICIAN).json().path("code").asString())
                .isEqualTo("FORBIDDEN");
        assertThat(http.postJson(path + "/restore", Map.of(), CLINICIAN).status()).isEqualTo(403);
        assertThat(http.send("DELETE", path + "?purge=true", null, CLINICIAN).status()).isEqualTo(403);

        var restored = http.postJson(path + "/restore", Map.of());
        assertThat(restored.status()).as(restored.toString()).isEqualTo(200);
        assertThat(restored.json().path("status").asString()).isEqualTo("AVAILABLE");
        assertThat(restored.json().path("tags").toString()).isEqualTo("[\"knee\",\"left\"]");
        assertThat(restored.json().path("deletion").isNull()).isTrue();
        assertThat(http.get(path).json().path("objectKey").asString()).isEqualTo("images/" + image.imageId() + "/original");
        assertThat(ids("/internal/v1/images?status=DELETED&patientId=" + image.patientId())).isEmpty();
        // again: the same answer
        assertThat(http.postJson(path + "/restore", Map.of()).json().path("status").asString()).isEqualTo("AVAILABLE");
        assertThat(changes(image.imageId())).containsExactly("AVAILABLE", "UPDATED", "DELETED", "RESTORED");

        // deleted again, and its window closes: the purge has its objects removed, and it can no longer be restored
        assertThat(http.send("DELETE", path, null).status()).isEqualTo(204);
        assertThat(deletionsOf(image.imageId())).isEmpty();
        expireWindowOf(image);
        assertThat(lifecycle.purgeDue()).isGreaterThanOrEqualTo(1);
        assertThat(lifecycle.purgeDue()).as("purged once").isZero();
        List<ConsumerRecord<String, byte[]>> purged = deletionsOf(image.imageId());
        assertThat(purged).hasSize(1);
        assertThat(objectPrefix(purged.get(0))).isEqualTo("images/" + image.imageId() + "/");
        var tooLate = http.postJson(path + "/restore", Map.of());
        assertThat(tooLate.status()).isEqualTo(409);
        assertThat(tooLate.json().path("code").asString()).isEqualTo("IMAGE_NOT_RESTORABLE");
        assertThat(ids("/internal/v1/images?status=DELETED&patientId=" + image.patientId())).isEmpty();
        assertThat(http.send("DELETE", path + "?purge=true", null).status()).as("nothing left to purge").isEqualTo(404);
    }

    @Test
    void purge_removes_the_objects_at_once_of_a_live_image_and_of_one_in_its_window() {
        Stored live = Uploads.anAvailableImage(http, kafka);
        assertThat(http.send("DELETE", "/internal/v1/images/" + live.imageId() + "?purge=true", null).status())
                .isEqualTo(204);
        assertThat(deletionsOf(live.imageId())).hasSize(1);
        assertThat(http.postJson("/internal/v1/images/" + live.imageId() + "/restore", Map.of()).json().path("code")
                .asString()).isEqualTo("IMAGE_NOT_RESTORABLE");

        Stored inWindow = Uploads.anAvailableImage(http, kafka);
        String path = "/internal/v1/images/" + inWindow.imageId();
        assertThat(http.send("DELETE", path, null).status()).isEqualTo(204);
        assertThat(deletionsOf(inWindow.imageId())).isEmpty();
        assertThat(http.send("DELETE", path + "?purge=true", null).status()).isEqualTo(204);
        assertThat(deletionsOf(inWindow.imageId())).hasSize(1);
        assertThat(lifecycle.purgeDue()).as("nothing of it left for the schedule").isZero();
        assertThat(http.postJson(path + "/restore", Map.of()).status()).isEqualTo(409);
    }

    @Test
    void a_patient_deleted_with_its_images_comes_back_with_them_and_an_image_of_a_deleted_patient_waits_for_it() {
        String patient = Uploads.aPatient(http);
        Stored first = Uploads.anAvailableImage(http, kafka, patient, null);
        Stored second = Uploads.anAvailableImage(http, kafka, patient, null);
        // deleted on its own before the patient: not deleted with it, so not restored with it
        Stored before = Uploads.anAvailableImage(http, kafka, patient, null);
        assertThat(http.send("DELETE", "/internal/v1/images/" + before.imageId(), null).status()).isEqualTo(204);

        assertThat(http.send("DELETE", "/internal/v1/patients/" + patient + "?cascade=true", null).status())
                .isEqualTo(204);
        assertThat(http.get("/internal/v1/patients/" + patient).status()).isEqualTo(404);
        assertThat(deletionsOf(first.imageId())).isEmpty();
        var waits = http.postJson("/internal/v1/images/" + first.imageId() + "/restore", Map.of());
        assertThat(waits.status()).isEqualTo(409);
        assertThat(waits.json().path("code").asString()).isEqualTo("PATIENT_DELETED");
        assertThat(http.postJson("/internal/v1/patients/" + patient + "/restore", Map.of(), CLINICIAN).status())
                .isEqualTo(403);
        // admins find it among the deleted patients, with the two images that would come back with it
        JsonNode deleted = deletedPatient(patient);
        assertThat(deleted.path("imageCount").asLong()).isEqualTo(2);
        assertThat(deleted.path("deletion").path("restorableUntil").isString()).isTrue();
        assertThat(http.get("/internal/v1/patients?status=DELETED", CLINICIAN).status()).isEqualTo(403);
        assertThat(http.get("/internal/v1/patients?status=GONE").json().path("code").asString())
                .isEqualTo("INVALID_PARAMETER");

        var restored = http.postJson("/internal/v1/patients/" + patient + "/restore", Map.of());
        assertThat(restored.status()).as(restored.toString()).isEqualTo(200);
        assertThat(restored.json().path("imageCount").asLong()).isEqualTo(2);
        assertThat(ids("/internal/v1/patients/" + patient + "/images")).containsExactlyInAnyOrder(first.imageId(),
                second.imageId());
        assertThat(ids("/internal/v1/images?status=DELETED&patientId=" + patient)).containsExactly(before.imageId());
        assertThat(changes(first.imageId())).containsExactly("AVAILABLE", "DELETED", "RESTORED");
        assertThat(deletedPatient(patient)).as("no longer among the deleted").isNull();
        assertThat(http.get("/internal/v1/patients/" + patient).json().path("deletion").isNull()).isTrue();
        assertThat(http.postJson("/internal/v1/patients/" + patient + "/restore", Map.of()).status())
                .as("a live patient is answered as it is").isEqualTo(200);

        // with purge=true nothing is kept and the patient cannot come back
        assertThat(http.send("DELETE", "/internal/v1/patients/" + patient + "?cascade=true&purge=true", null).status())
                .isEqualTo(204);
        assertThat(deletionsOf(first.imageId())).hasSize(1);
        assertThat(deletionsOf(second.imageId())).hasSize(1);
        var gone = http.postJson("/internal/v1/patients/" + patient + "/restore", Map.of());
        assertThat(gone.status()).isEqualTo(409);
        assertThat(gone.json().path("code").asString()).isEqualTo("PATIENT_NOT_RESTORABLE");
        assertThat(deletionsOf(before.imageId())).as("the image deleted before keeps its own window").isEmpty();
    }

    @Test
    void a_patient_under_a_legal_hold_keeps_every_image_until_an_admin_releases_it() {
        String patient = Uploads.aPatient(http);
        String other = Uploads.aPatient(http);
        Stored kept = Uploads.anAvailableImage(http, kafka, patient, null);
        Stored deletedBefore = Uploads.anAvailableImage(http, kafka, patient, null);
        assertThat(http.send("DELETE", "/internal/v1/images/" + deletedBefore.imageId(), null).status()).isEqualTo(204);
        String hold = "/internal/v1/patients/" + patient + "/legal-hold";
        assertThat(http.send("PUT", hold, Map.of("reason", "case 2026-114"), CLINICIAN).status()).isEqualTo(403);
        assertThat(http.send("PUT", hold, Map.of("reason", " ")).json().path("code").asString())
                .isEqualTo("INVALID_LEGAL_HOLD");

        var held = http.send("PUT", hold, Map.of("reason", "case 2026-114"));
        assertThat(held.status()).as(held.toString()).isEqualTo(200);
        assertThat(held.json().path("legalHold").path("reason").asString()).isEqualTo("case 2026-114");
        assertThat(held.json().path("legalHold").path("by").asString()).isEqualTo("system");
        String image = "/internal/v1/images/" + kept.imageId();
        for (var refused : List.of(http.send("DELETE", image, null), http.send("DELETE", image + "?purge=true", null),
                http.postJson(image + "/move", Map.of("patientId", other)),
                http.send("DELETE", "/internal/v1/patients/" + patient + "?cascade=true&purge=true", null),
                http.send("DELETE", "/internal/v1/images/" + deletedBefore.imageId() + "?purge=true", null))) {
            assertThat(refused.status()).as(refused.toString()).isEqualTo(409);
            assertThat(refused.json().path("code").asString()).isEqualTo("LEGAL_HOLD");
        }
        assertThat(http.get(image).json().path("patientId").asString()).isEqualTo(patient);
        // an image deleted before the hold: past its window the purge keeps it, and it can still be restored
        expireWindowOf(deletedBefore);
        lifecycle.purgeDue();
        assertThat(deletionsOf(deletedBefore.imageId())).isEmpty();
        assertThat(http.postJson("/internal/v1/images/" + deletedBefore.imageId() + "/restore", Map.of()).status())
                .isEqualTo(200);

        assertThat(http.send("DELETE", hold, null).status()).isEqualTo(204);
        assertThat(http.get("/internal/v1/patients/" + patient).json().path("legalHold").isNull()).isTrue();
        assertThat(http.send("DELETE", image, null).status()).isEqualTo(204);
        expireWindowOf(kept);
        assertThat(lifecycle.purgeDue()).isGreaterThanOrEqualTo(1);
        assertThat(deletionsOf(kept.imageId())).hasSize(1);
    }

    /** The patient among the deleted ones that can still be restored, or null. */
    private JsonNode deletedPatient(String patientId) {
        for (JsonNode patient : http.get("/internal/v1/patients?status=DELETED&limit=500").json().path("items")) {
            if (patient.path("patientId").asString().equals(patientId)) {
                return patient;
            }
        }
        return null;
    }

        private void expireWindowOf(Stored image) {
        jdbc.sql("update images set restorable_until = now() - interval '1 second' where id = ?")
                .param(UUID.fromString(image.imageId())).update();
    }

    /**
     * The {@code ImageDeleted} records published for an image, once the outbox has relayed all it holds: a deletion
     * that published one would be among them, however late.
     */
    private List<ConsumerRecord<String, byte[]>> deletionsOf(String imageId) {
        await().atMost(Duration.ofSeconds(30))
                .until(() -> jdbc.sql("select count(*) from outbox").query(Long.class).single() == 0);
        return KafkaRecords.recordsToEnd(broker, Topics.IMAGE_DELETIONS, imageId::equals);
    }

    private static String objectPrefix(ConsumerRecord<String, byte[]> record) {
        try {
            return ImageDeleted.parseFrom(record.value()).getObjectPrefix();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private JsonNode trashed(Stored image) {
        JsonNode items = http.get("/internal/v1/images?status=DELETED&patientId=" + image.patientId()).json()
                .path("items");
        assertThat(items).hasSize(1);
        assertThat(items.get(0).path("imageId").asString()).isEqualTo(image.imageId());
        assertThat(items.get(0).path("status").asString()).isEqualTo("DELETED");
        return items.get(0);
    }

    private List<String> ids(String path) {
        var answer = http.get(path);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return StreamSupport.stream(answer.json().path("items").spliterator(), false)
                .map(item -> item.path("imageId").asString()).toList();
    }

    private List<String> changes(String imageId) {
        return jdbc.sql("select type from image_changes where image_id = ? order by txid, seq")
                .param(UUID.fromString(imageId)).query(String.class).list();
    }
}
