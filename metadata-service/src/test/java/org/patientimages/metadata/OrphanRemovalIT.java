package org.patientimages.metadata;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An orphan's removal and its adoption by two admins at the same moment, against a real PostgreSQL: whichever comes
 * first wins, and the other is refused, so that no image is recorded whose bytes are being removed.
 */
class OrphanRemovalIT extends RunningService {

    @Test
    void an_orphan_being_removed_is_not_adopted_and_an_adopted_image_is_not_removed() {
        String patient = Uploads.aPatient(http);
        UUID removed = UUID.randomUUID();
        assertThat(http.postJson("/internal/v1/images/" + removed + "/removal", Map.of()).status()).isEqualTo(204);
        // a removal cut off midway is asked again
        assertThat(http.postJson("/internal/v1/images/" + removed + "/removal", Map.of()).status()).isEqualTo(204);
        var adoption = http.postJson("/internal/v1/images/" + removed + "/adoption", original(patient, removed));
        assertThat(adoption.status()).as(adoption.toString()).isEqualTo(409);
        assertThat(adoption.json().path("code").asString()).isEqualTo("ORPHAN_BEING_REMOVED");
        assertThat(http.get("/internal/v1/images/" + removed).status()).isEqualTo(404);

        UUID adopted = UUID.randomUUID();
        assertThat(http.postJson("/internal/v1/images/" + adopted + "/adoption", original(patient, adopted)).status())
                .isEqualTo(201);
        var removal = http.postJson("/internal/v1/images/" + adopted + "/removal", Map.of());
        assertThat(removal.status()).isEqualTo(409);
        assertThat(removal.json().path("code").asString()).isEqualTo("IMAGE_EXISTS");

        var clinician = http.postJson("/internal/v1/images/" + UUID.randomUUID() + "/removal", Map.of(),
                "X-Caller", "alice", "X-Caller-Roles", "clinician");
        assertThat(clinician.status()).isEqualTo(403);
    }

    @Test
    void an_adoption_and_a_removal_made_at_once_never_both_succeed() throws Exception {
        String patient = Uploads.aPatient(http);
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                UUID id = UUID.randomUUID();
                Callable<Integer> adopt = () -> http.postJson("/internal/v1/images/" + id + "/adoption",
                        original(patient, id)).status();
                Callable<Integer> remove = () -> http.postJson("/internal/v1/images/" + id + "/removal", Map.of())
                        .status();
                List<Future<Integer>> answers = two.invokeAll(round % 2 == 0 ? List.of(adopt, remove)
                        : List.of(remove, adopt));
                int adopted = answers.get(round % 2 == 0 ? 0 : 1).get();
                int removing = answers.get(round % 2 == 0 ? 1 : 0).get();
                assertThat(List.of(adopted, removing)).as("round %d", round).containsAnyOf(201, 204)
                        .containsAnyOf(409);
                assertThat(http.get("/internal/v1/images/" + id).status()).isEqualTo(adopted == 201 ? 200 : 404);
            }
        } finally {
            two.shutdownNow();
        }
    }

    /** An original as the gateway reads it from the store. */
    private static Map<String, Object> original(String patient, UUID id) {
        return Map.of("patientId", patient, "bucket", "patient-images", "objectKey", "images/" + id + "/original",
                "contentType", "image/png", "sizeBytes", 1234, "sha256", "ab".repeat(32),
                "storedAt", "2026-12-08T00:00:00Z");
    }
}
