package org.patientimages.metadata;

import org.junit.jupiter.api.Test;
import org.patientimages.localstack.testing.TestHttp;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** One person registered twice, merged: against the real PostgreSQL and Kafka. */
class PatientMergeIT extends RunningService {

    @Test
    void a_patient_merged_into_another_gives_it_its_images_jobs_and_deleted_images_and_is_gone() {
        String cursor = http.get("/internal/v1/changes?start=latest").json().path("nextCursor").asString();
        String duplicate = Uploads.aPatient(http);
        String kept = Uploads.aPatient(http);
        Uploads.Stored first = Uploads.anAvailableImage(http, kafka, duplicate, null);
        Uploads.Stored second = Uploads.anAvailableImage(http, kafka, duplicate, null);
        Uploads.Stored deleted = Uploads.anAvailableImage(http, kafka, duplicate, null);
        Uploads.Stored own = Uploads.anAvailableImage(http, kafka, kept, null);
        assertThat(http.send("DELETE", "/internal/v1/images/" + deleted.imageId(), null).status()).isEqualTo(204);
        jdbc.sql("update jobs set idempotency_key = 'retry-me' where image_id = ?")
                .param(UUID.fromString(first.imageId())).update();

        TestHttp.Answer merged = http.postJson("/internal/v1/patients/" + duplicate + "/merge", Map.of("into", kept));
        assertThat(merged.status()).as(merged.toString()).isEqualTo(200);
        assertThat(merged.json().path("patientId").asString()).isEqualTo(kept);
        assertThat(merged.json().path("imageCount").asLong()).isEqualTo(3);
        assertThat(itemIds(http.get("/internal/v1/patients/" + kept + "/images").json(), "imageId"))
                .containsExactlyInAnyOrder(first.imageId(), second.imageId(), own.imageId());
        assertThat(jdbc.sql("select count(*) from jobs where patient_id = ?").param(UUID.fromString(duplicate))
                .query(Long.class).single()).isZero();
        assertThat(jdbc.sql("select count(*) from jobs where patient_id = ? and idempotency_key is not null")
                .param(UUID.fromString(kept)).query(Long.class).single()).isZero();

        // each image that moved, and not the deleted one, is told in the feed (the duplicate's own is gone with it)
        for (String feedOf : List.of("patientId=" + kept + "&", "")) {
            JsonNode feed = await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/changes?"
                    + feedOf + "limit=500&cursor=" + cursor).json(), page -> moved(page).size() == 2);
            assertThat(moved(feed)).containsExactlyInAnyOrder(first.imageId(), second.imageId());
            feed.path("items").forEach(change -> {
                if (change.path("type").asString().equals("MOVED")) {
                    assertThat(change.path("movedFrom").asString()).isEqualTo(duplicate);
                    assertThat(change.path("patientId").asString()).isEqualTo(kept);
                }
            });
        }

        // the duplicate is gone; its 404 says where its images went, to whoever may see that patient
        TestHttp.Answer gone = http.get("/internal/v1/patients/" + duplicate);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        assertThat(gone.json().path("detail").asString()).contains("merged into patient " + kept);
        String stranger = "dr-" + UUID.randomUUID().toString().substring(0, 8);
        TestHttp.Answer hidden = http.get("/internal/v1/patients/" + duplicate, "X-Caller", stranger,
                "X-Caller-Roles", "clinician");
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.json().path("detail").asString()).doesNotContain("merged").doesNotContain(kept);
        assertThat(http.postJson("/internal/v1/uploads", Uploads.anUpload(duplicate, null)).json().path("code")
                .asString()).isEqualTo("PATIENT_NOT_FOUND");
        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/restore", Map.of()).status())
                .isEqualTo(409);
        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/merge", Map.of("into", kept)).status())
                .isEqualTo(404);

        // the image deleted before the merge comes back to the patient it now belongs to
        TestHttp.Answer restored = http.postJson("/internal/v1/images/" + deleted.imageId() + "/restore", Map.of());
        assertThat(restored.status()).as(restored.toString()).isEqualTo(200);
        assertThat(restored.json().path("patientId").asString()).isEqualTo(kept);
    }

    @Test
    void a_merge_made_by_mistake_is_undone_its_images_back_its_grants_revoked_what_moved_on_since_left() {
        String duplicate = Uploads.aPatient(http);
        String kept = Uploads.aPatient(http);
        String elsewhere = Uploads.aPatient(http);
        Uploads.Stored first = Uploads.anAvailableImage(http, kafka, duplicate, null);
        Uploads.Stored movedOn = Uploads.anAvailableImage(http, kafka, duplicate, null);
        Uploads.Stored deleted = Uploads.anAvailableImage(http, kafka, duplicate, null);
        Uploads.Stored own = Uploads.anAvailableImage(http, kafka, kept, null);
        assertThat(http.send("DELETE", "/internal/v1/images/" + deleted.imageId(), null).status()).isEqualTo(204);
        String clinician = "dr-" + UUID.randomUUID().toString().substring(0, 8);
        String keptsOwn = "dr-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(http.send("PUT", "/internal/v1/patients/" + duplicate + "/grants/" + clinician, null).status())
                .isEqualTo(200);
        assertThat(http.send("PUT", "/internal/v1/patients/" + kept + "/grants/" + keptsOwn, null).status())
                .isEqualTo(200);
        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/merge",
                Map.of("into", kept, "carryGrants", true)).status()).isEqualTo(200);
        assertThat(http.postJson("/internal/v1/images/" + movedOn.imageId() + "/move", Map.of("patientId", elsewhere))
                .status()).isEqualTo(200);
        String cursor = http.get("/internal/v1/changes?start=latest").json().path("nextCursor").asString();

        TestHttp.Answer undone = http.postJson("/internal/v1/patients/" + duplicate + "/unmerge", Map.of());
        assertThat(undone.status()).as(undone.toString()).isEqualTo(200);
        assertThat(undone.header("X-Unmerged-From")).isEqualTo(kept);
        assertThat(undone.json().path("patientId").asString()).isEqualTo(duplicate);
        assertThat(itemIds(http.get("/internal/v1/patients/" + duplicate + "/images").json(), "imageId"))
                .containsExactly(first.imageId());
        assertThat(itemIds(http.get("/internal/v1/patients/" + kept + "/images").json(), "imageId"))
                .containsExactly(own.imageId());
        assertThat(http.get("/internal/v1/images/" + movedOn.imageId()).json().path("patientId").asString())
                .isEqualTo(elsewhere);
        assertThat(jdbc.sql("select patient_id from images where id = ?").param(UUID.fromString(deleted.imageId()))
                .query(UUID.class).single()).as("deleted, back too").isEqualTo(UUID.fromString(duplicate));
        assertThat(jdbc.sql("select count(*) from jobs where image_id = ? and patient_id = ?")
                .params(UUID.fromString(first.imageId()), UUID.fromString(duplicate)).query(Long.class).single())
                .isEqualTo(1);
        JsonNode feed = await().atMost(Duration.ofSeconds(20)).until(() -> http.get("/internal/v1/changes?limit=500&"
                + "cursor=" + cursor).json(), page -> moved(page).size() == 1);
        assertThat(moved(feed)).containsExactly(first.imageId());
        // the grant the merge carried is revoked; the patient's own and the duplicate's stay
        assertThat(http.get("/internal/v1/images/" + first.imageId(), "X-Caller", clinician, "X-Caller-Roles",
                "clinician").status()).isEqualTo(200);
        assertThat(http.get("/internal/v1/images/" + own.imageId(), "X-Caller", clinician, "X-Caller-Roles",
                "clinician").status()).isEqualTo(404);
        assertThat(http.get("/internal/v1/images/" + own.imageId(), "X-Caller", keptsOwn, "X-Caller-Roles",
                "clinician").status()).isEqualTo(200);

        assertThat(code(http.postJson("/internal/v1/patients/" + duplicate + "/unmerge", Map.of())))
                .isEqualTo("NOT_MERGED");
        assertThat(code(http.postJson("/internal/v1/patients/" + UUID.randomUUID() + "/unmerge", Map.of())))
                .isEqualTo("PATIENT_NOT_FOUND");
        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/unmerge", Map.of(), "X-Caller", "dr-who",
                "X-Caller-Roles", "clinician").status()).isEqualTo(403);
        // merged again, and not undone while the patient kept is under a legal hold
        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/merge", Map.of("into", kept)).status())
                .isEqualTo(200);
        assertThat(http.send("PUT", "/internal/v1/patients/" + kept + "/legal-hold", Map.of("reason", "case 7"))
                .status()).isEqualTo(200);
        assertThat(code(http.postJson("/internal/v1/patients/" + duplicate + "/unmerge", Map.of())))
                .isEqualTo("LEGAL_HOLD");
        assertThat(http.get("/internal/v1/patients/" + duplicate).status()).isEqualTo(404);
    }

    @Test
    void the_patient_kept_takes_the_duplicates_identifier_when_it_has_none_and_an_undone_merge_takes_it_back() {
        String mrn = "MRN-m" + UUID.randomUUID().toString().substring(0, 8);
        String duplicate = patientWith(mrn);
        String kept = Uploads.aPatient(http);

        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/merge", Map.of("into", kept)).json()
                .path("identifier").asString()).isEqualTo(mrn);
        assertThat(itemIds(http.get("/internal/v1/patients?identifier=" + mrn).json(), "patientId"))
                .containsExactly(kept);

        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/unmerge", Map.of()).json()
                .path("identifier").asString()).isEqualTo(mrn);
        assertThat(http.get("/internal/v1/patients/" + kept).json().path("identifier").isNull()).isTrue();
        assertThat(itemIds(http.get("/internal/v1/patients?identifier=" + mrn).json(), "patientId"))
                .containsExactly(duplicate);

        // a patient kept with an identifier of its own keeps it
        String own = "MRN-k" + UUID.randomUUID().toString().substring(0, 8);
        String keptWithOwn = patientWith(own);
        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/merge", Map.of("into", keptWithOwn)).json()
                .path("identifier").asString()).isEqualTo(own);
        assertThat(http.get("/internal/v1/patients?identifier=" + mrn).json().path("items")).isEmpty();
        assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/unmerge", Map.of()).json()
                .path("identifier").asString()).isEqualTo(mrn);
        assertThat(http.get("/internal/v1/patients/" + keptWithOwn).json().path("identifier").asString())
                .isEqualTo(own);
    }

    private String patientWith(String identifier) {
        return http.postJson("/internal/v1/patients", Map.of("name", "Jane Smith", "username",
                "id-" + UUID.randomUUID().toString().substring(0, 8), "identifier", identifier)).json()
                .path("patientId").asString();
    }

    @Test
    void grants_of_the_duplicate_go_to_the_patient_kept_only_when_asked() {
        String[] clinicians = {"dr-" + UUID.randomUUID().toString().substring(0, 8),
                "dr-" + UUID.randomUUID().toString().substring(0, 8)};
        for (boolean carry : new boolean[] {false, true}) {
            String duplicate = Uploads.aPatient(http);
            String kept = Uploads.aPatient(http);
            Uploads.Stored image = Uploads.anAvailableImage(http, kafka, duplicate, null);
            assertThat(http.send("PUT", "/internal/v1/patients/" + duplicate + "/grants/" + clinicians[0], null)
                    .status()).isEqualTo(200);
            // one granted both already keeps the grant it had
            for (String patient : List.of(duplicate, kept)) {
                assertThat(http.send("PUT", "/internal/v1/patients/" + patient + "/grants/" + clinicians[1], null,
                        "X-Caller", "first-admin", "X-Caller-Roles", "admin").status()).isEqualTo(200);
            }
            Map<String, Object> merge = carry ? Map.of("into", kept, "carryGrants", true) : Map.of("into", kept);
            assertThat(http.postJson("/internal/v1/patients/" + duplicate + "/merge", merge,
                    "X-Caller", "merging-admin", "X-Caller-Roles", "admin").status()).isEqualTo(200);
            TestHttp.Answer seen = http.get("/internal/v1/images/" + image.imageId(), "X-Caller", clinicians[0],
                    "X-Caller-Roles", "clinician");
            assertThat(seen.status()).as("carryGrants " + carry).isEqualTo(carry ? 200 : 404);
            Map<String, String> grantedBy = new java.util.HashMap<>();
            http.get("/internal/v1/patients/" + kept + "/grants").json().path("items").forEach(g ->
                    grantedBy.put(g.path("username").asString(), g.path("grantedBy").asString()));
            assertThat(grantedBy).isEqualTo(carry ? Map.of(clinicians[0], "merging-admin", clinicians[1], "first-admin")
                    : Map.of(clinicians[1], "first-admin"));
        }
    }

    @Test
    void only_an_admin_merges_a_live_patient_not_under_a_hold_and_not_while_an_image_is_being_stored() {
        String duplicate = Uploads.aPatient(http);
        String kept = Uploads.aPatient(http);
        String path = "/internal/v1/patients/" + duplicate + "/merge";
        assertThat(http.postJson(path, Map.of("into", kept), "X-Caller", "dr-who", "X-Caller-Roles", "clinician")
                .status()).isEqualTo(403);
        assertThat(code(http.postJson(path, Map.of()))).isEqualTo("MISSING_PATIENT_ID");
        assertThat(code(http.postJson(path, Map.of("into", duplicate)))).isEqualTo("INVALID_MERGE");
        assertThat(code(http.postJson(path, Map.of("into", UUID.randomUUID().toString()))))
                .isEqualTo("PATIENT_NOT_FOUND");
        String gone = Uploads.aPatient(http);
        assertThat(http.send("DELETE", "/internal/v1/patients/" + gone, null).status()).isEqualTo(204);
        assertThat(code(http.postJson(path, Map.of("into", gone)))).isEqualTo("PATIENT_NOT_FOUND");

        Map<String, Object> pending = Uploads.anUpload(duplicate, null);
        assertThat(http.postJson("/internal/v1/uploads", pending).status()).isEqualTo(201);
        TestHttp.Answer busy = http.postJson(path, Map.of("into", kept));
        assertThat(busy.status()).isEqualTo(409);
        assertThat(busy.json().path("code").asString()).isEqualTo("PATIENT_BUSY");
        assertThat(busy.json().path("retryable").asBoolean()).isTrue();

        String held = Uploads.aPatient(http);
        assertThat(http.send("PUT", "/internal/v1/patients/" + held + "/legal-hold", Map.of("reason", "case 12"))
                .status()).isEqualTo(200);
        assertThat(code(http.postJson("/internal/v1/patients/" + held + "/merge", Map.of("into", kept))))
                .isEqualTo("LEGAL_HOLD");
        // nothing moved by any of the refusals
        assertThat(http.get("/internal/v1/patients/" + duplicate).status()).isEqualTo(200);
        assertThat(http.get("/internal/v1/images/" + pending.get("imageId")).json().path("patientId").asString())
                .isEqualTo(duplicate);
    }

    private static String code(TestHttp.Answer answer) {
        assertThat(answer.contentType()).as(answer.toString()).isEqualTo("application/problem+json");
        return answer.json().path("code").asString();
    }

    private static List<String> moved(JsonNode page) {
        List<String> ids = new ArrayList<>();
        page.path("items").forEach(c -> {
            if (c.path("type").asString().equals("MOVED")) {
                ids.add(c.path("imageId").asString());
            }
        });
        return ids;
    }
}
