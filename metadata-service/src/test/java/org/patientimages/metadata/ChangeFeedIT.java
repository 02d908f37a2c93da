package org.patientimages.metadata;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.Uploads.Stored;
import org.patientimages.metadata.feed.ChangeFeed;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The change feed against a real PostgreSQL (and Kafka, by which images become AVAILABLE). */
class ChangeFeedIT extends RunningService {

    @Autowired
    ChangeFeed feed;

    @Test
    void an_image_is_told_available_updated_and_deleted_in_order_and_a_cursor_goes_on_where_it_stopped() {
        String start = latest();
        Stored image = Uploads.anAvailableImage(http, kafka);
        String path = "/internal/v1/images/" + image.imageId();
        assertThat(http.send("POST", path + "/tags", Map.of("tags", List.of("left"))).status()).isEqualTo(200);
        assertThat(http.send("PATCH", path, Map.of("description", "sagittal")).status()).isEqualTo(200);
        // calls that change nothing are no change: the same tag again, the same description, a tag it does not have
        assertThat(http.send("POST", path + "/tags", Map.of("tags", List.of("LEFT"))).status()).isEqualTo(200);
        assertThat(http.send("PATCH", path, Map.of("description", "sagittal")).status()).isEqualTo(200);
        assertThat(http.send("DELETE", path + "/tags/absent", null).status()).isEqualTo(204);
        assertThat(http.send("PUT", path + "/tags", Map.of("tags", List.of("mri", "knee", "left"))).status())
                .isEqualTo(200);
        assertThat(http.send("DELETE", path, null).status()).isEqualTo(204);

        // a change shows once no transaction older than its own still runs (another test's, a relay's): wait for that
        JsonNode all = awaitChanges("?patientId=" + image.patientId() + "&cursor=" + start, image.imageId(), 4);
        assertThat(types(all, image.imageId())).containsExactly("AVAILABLE", "UPDATED", "UPDATED", "DELETED");
        assertThat(all.path("items").get(0).path("patientId").asString()).isEqualTo(image.patientId());
        assertThat(all.path("more").asBoolean()).isFalse();

        // two at a time: the same changes, none twice, and more says when to read again at once
        List<String> paged = new ArrayList<>();
        String cursor = start;
        JsonNode page;
        do {
            page = changes("?patientId=" + image.patientId() + "&limit=2&cursor=" + cursor);
            paged.addAll(types(page, image.imageId()));
            assertThat(page.path("nextCursor").isNull()).isFalse();
            cursor = page.path("nextCursor").asString();
        } while (page.path("more").asBoolean());
        assertThat(paged).containsExactly("AVAILABLE", "UPDATED", "UPDATED", "DELETED");

        // at the end: nothing new, the same cursor back
        JsonNode end = changes("?patientId=" + image.patientId() + "&cursor=" + cursor);
        assertThat(end.path("items")).isEmpty();
        assertThat(end.path("nextCursor").asString()).isEqualTo(cursor);
    }

    @Test
    void changes_come_in_the_order_of_their_transaction_ids_also_where_the_ids_gain_a_digit() {
        // written as if by transactions 100, 10 and 9 (long settled), from the start of the feed
        jdbc.sql("update image_changes_pruned set txid = '0', seq = 0").update();
        String patient = Uploads.aPatient(http);
        String image = UUID.randomUUID().toString();
        for (String[] change : List.of(new String[] {"100", "DELETED"}, new String[] {"10", "UPDATED"},
                new String[] {"9", "AVAILABLE"})) {
            jdbc.sql("insert into image_changes (txid, image_id, patient_id, type, at) values (?::xid8, ?, ?, ?, now())")
                    .params(change[0], UUID.fromString(image), UUID.fromString(patient), change[1]).update();
        }
        assertThat(types(changes("?patientId=" + patient), image)).containsExactly("AVAILABLE", "UPDATED", "DELETED");
        List<String> paged = new ArrayList<>();
        String cursor = null;
        JsonNode page;
        do {
            page = changes("?patientId=" + patient + "&limit=1" + (cursor == null ? "" : "&cursor=" + cursor));
            paged.addAll(types(page, image));
            cursor = page.path("nextCursor").asString();
        } while (page.path("more").asBoolean());
        assertThat(paged).containsExactly("AVAILABLE", "UPDATED", "DELETED");
    }

    @Test
    void a_reader_never_passes_a_change_whose_transaction_commits_later() throws Exception {
        Stored image = Uploads.anAvailableImage(http, kafka);
        String start = latest();
        try (Connection slow = DriverManager.getConnection(postgres.jdbcUrl("patients_db"), "postgres", "")) {
            slow.setAutoCommit(false);
            // a transaction that writes its change first (the lower transaction id) and commits last
            try (var insert = slow.prepareStatement("insert into image_changes (image_id, patient_id, type, at)"
                    + " values (?, ?, 'DELETED', now())")) {
                insert.setObject(1, UUID.fromString(image.imageId()));
                insert.setObject(2, UUID.fromString(image.patientId()));
                insert.executeUpdate();
            }
            assertThat(http.send("PATCH", "/internal/v1/images/" + image.imageId(), Map.of("name", "later"))
                    .status()).isEqualTo(200);

            assertThat(types(changes("?cursor=" + start), image.imageId()))
                    .as("the later commit waits for the earlier transaction").doesNotContain("UPDATED", "DELETED");
            slow.commit();
        }
        JsonNode after = awaitChanges("?cursor=" + start, image.imageId(), changes -> changes.contains("UPDATED"));
        assertThat(types(after, image.imageId())).filteredOn(t -> !t.equals("AVAILABLE"))
                .containsExactly("DELETED", "UPDATED");
    }

    @Test
    void a_clinician_follows_only_the_patients_granted_to_them() {
        String start = latest();
        Stored granted = Uploads.anAvailableImage(http, kafka);
        Stored other = Uploads.anAvailableImage(http, kafka);
        String clinician = "dr-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(http.send("PUT", "/internal/v1/patients/" + granted.patientId() + "/grants/" + clinician, null)
                .status()).isIn(200, 201);
        await().atMost(Duration.ofSeconds(20)).until(() -> itemIds(changes("?cursor=" + start), "imageId")
                .containsAll(List.of(granted.imageId(), other.imageId())));
        var seen = http.get("/internal/v1/changes?limit=500&cursor=" + start, "X-Caller", clinician,
                "X-Caller-Roles", "clinician");
        assertThat(seen.status()).as(seen.toString()).isEqualTo(200);
        assertThat(itemIds(seen.json(), "imageId")).contains(granted.imageId()).doesNotContain(other.imageId());
        var notHers = http.get("/internal/v1/changes?patientId=" + other.patientId(), "X-Caller", clinician,
                "X-Caller-Roles", "clinician");
        assertThat(notHers.status()).isEqualTo(404);
        assertThat(notHers.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        assertThat(http.get("/internal/v1/changes?start=earliest").json().path("code").asString())
                .isEqualTo("INVALID_PARAMETER");
        assertThat(http.get("/internal/v1/changes?cursor=%25%25").json().path("code").asString())
                .isEqualTo("INVALID_CURSOR");
    }

    @Test
    void an_image_moved_to_another_patient_takes_its_jobs_and_shows_in_both_patients_feeds() {
        String start = latest();
        Stored image = Uploads.anAvailableImage(http, kafka);
        String target = Uploads.aPatient(http);
        String path = "/internal/v1/images/" + image.imageId();
        String jobId = jdbc.sql("select id from jobs where image_id = ?").param(UUID.fromString(image.imageId()))
                .query(String.class).single();

        var moved = http.postJson(path + "/move", Map.of("patientId", target));
        assertThat(moved.status()).as(moved.toString()).isEqualTo(200);
        assertThat(moved.json().path("patientId").asString()).isEqualTo(target);
        assertThat(http.get("/internal/v1/jobs/" + jobId).json().path("patientId").asString()).isEqualTo(target);
        assertThat(itemIds(http.get("/internal/v1/patients/" + target + "/images").json(), "imageId"))
                .containsExactly(image.imageId());
        assertThat(http.get("/internal/v1/patients/" + image.patientId() + "/images").json().path("items")).isEmpty();
        assertThat(jdbc.sql("select count(*) from jobs where image_id = ? and idempotency_key is not null")
                .param(UUID.fromString(image.imageId())).query(Long.class).single()).isZero();

        for (String patient : List.of(image.patientId(), target)) {
            JsonNode feed = awaitChanges("?patientId=" + patient + "&cursor=" + start, image.imageId(),
                    types -> types.contains("MOVED"));
            JsonNode move = StreamSupport.stream(feed.path("items").spliterator(), false)
                    .filter(c -> c.path("type").asString().equals("MOVED")).findFirst().orElseThrow();
            assertThat(move.path("patientId").asString()).isEqualTo(target);
            assertThat(move.path("movedFrom").asString()).isEqualTo(image.patientId());
        }
        // a clinician of the old patient alone learns that it left
        String clinician = "dr-" + UUID.randomUUID().toString().substring(0, 8);
        http.send("PUT", "/internal/v1/patients/" + image.patientId() + "/grants/" + clinician, null);
        assertThat(types(http.get("/internal/v1/changes?limit=500&cursor=" + start, "X-Caller", clinician,
                "X-Caller-Roles", "clinician").json(), image.imageId())).contains("AVAILABLE", "MOVED");
        // but cannot move it back: the image is no longer one of theirs
        assertThat(http.postJson(path + "/move", Map.of("patientId", image.patientId()), "X-Caller", clinician,
                "X-Caller-Roles", "clinician").status()).isEqualTo(404);

        // again to the same patient: nothing changes; to no patient, or one that does not exist: refused
        assertThat(http.postJson(path + "/move", Map.of("patientId", target)).status()).isEqualTo(200);
        assertThat(http.postJson(path + "/move", Map.of()).json().path("code").asString()).isEqualTo("MISSING_PATIENT_ID");
        assertThat(http.postJson(path + "/move", Map.of("patientId", UUID.randomUUID().toString())).json()
                .path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        // an image still being stored stays where it is
        Map<String, Object> pending = Uploads.anUpload(image.patientId(), null);
        http.postJson("/internal/v1/uploads", pending);
        var busy = http.postJson("/internal/v1/images/" + pending.get("imageId") + "/move", Map.of("patientId", target));
        assertThat(busy.status()).isEqualTo(409);
        assertThat(busy.json().path("code").asString()).isEqualTo("IMAGE_BUSY");
    }

    @Test
    void changes_past_the_retention_are_pruned_and_a_cursor_from_before_is_told_to_sync_again() {
        String before = latest();
        Stored image = Uploads.anAvailableImage(http, kafka);
        awaitChanges("?cursor=" + before, image.imageId(), 1);
        jdbc.sql("update image_changes set at = at - interval '31 days'").update();
        assertThat(feed.prune()).isPositive();
        assertThat(jdbc.sql("select count(*) from image_changes where image_id = ?")
                .param(UUID.fromString(image.imageId())).query(Long.class).single()).isZero();

        var expired = http.get("/internal/v1/changes?cursor=" + before);
        assertThat(expired.status()).isEqualTo(410);
        assertThat(expired.contentType()).isEqualTo("application/problem+json");
        assertThat(expired.json().path("code").asString()).isEqualTo("CHANGES_CURSOR_EXPIRED");

        // from the start of what is kept, and from the end, a client goes on
        String fresh = latest();
        assertThat(http.get("/internal/v1/changes").status()).isEqualTo(200);
        assertThat(http.send("PATCH", "/internal/v1/images/" + image.imageId(), Map.of("name", "kept")).status())
                .isEqualTo(200);
        assertThat(types(awaitChanges("?cursor=" + fresh, image.imageId(), 1), image.imageId())).containsExactly("UPDATED");
        feed.prune();
        assertThat(types(changes("?cursor=" + fresh), image.imageId())).as("a new change is kept").containsExactly("UPDATED");
    }

    private String latest() {
        return changes("?start=latest").path("nextCursor").asString();
    }

    /** The changes once at least {@code count} of the image are in them. */
    private JsonNode awaitChanges(String query, String imageId, int count) {
        return awaitChanges(query, imageId, types -> types.size() >= count);
    }

    private JsonNode awaitChanges(String query, String imageId, java.util.function.Predicate<List<String>> done) {
        return await().atMost(Duration.ofSeconds(20)).until(() -> changes(query), page -> done.test(types(page, imageId)));
    }

    private JsonNode changes(String query) {
        var answer = http.get("/internal/v1/changes" + query);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return answer.json();
    }

    private static List<String> types(JsonNode page, String imageId) {
        List<String> types = new ArrayList<>();
        page.path("items").forEach(c -> {
            if (c.path("imageId").asString().equals(imageId)) {
                types.add(c.path("type").asString());
            }
        });
        return types;
    }
}
