package org.patientimages.metadata;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.patientimages.localstack.testing.TestHttp;
import org.patientimages.localstack.testing.WebhookReceiver;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Webhooks sent the change feed, against a real PostgreSQL and Kafka and a receiver on this machine. */
class WebhookIT extends RunningService {

    private static final Duration DELIVERED = Duration.ofSeconds(30);

    WebhookReceiver receiver;

    @BeforeEach
    void receiver() {
        receiver = new WebhookReceiver();
    }

    @AfterEach
    void stop() {
        jdbc.sql("delete from webhooks").update();
        receiver.close();
    }

    @Test
    void a_webhook_is_sent_its_patients_changes_in_order_signed_and_nothing_of_other_patients() {
        String patient = Uploads.aPatient(http);
        TestHttp.Answer created = http.postJson("/internal/v1/webhooks", webhook("/hook", patient, null));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        JsonNode hook = created.json();
        String secret = hook.path("secret").asString();
        assertThat(secret).startsWith("whsec_");
        assertThat(created.header("Location")).isEqualTo("/v1/webhooks/" + hook.path("webhookId").asString());
        assertThat(hook.path("delivery").path("status").asString()).isEqualTo("ACTIVE");

        Uploads.Stored other = Uploads.anAvailableImage(http, kafka);
        Uploads.Stored image = Uploads.anAvailableImage(http, kafka, patient, null);
        String path = "/internal/v1/images/" + image.imageId();
        assertThat(http.send("PATCH", path, Map.of("name", "renamed")).status()).isEqualTo(200);
        assertThat(http.send("DELETE", path, null).status()).isEqualTo(204);

        await().atMost(DELIVERED).until(() -> types(receiver.changes("/hook")).contains("DELETED"));
        assertThat(types(receiver.changes("/hook"))).containsExactly("AVAILABLE", "UPDATED", "DELETED");
        assertThat(receiver.changes("/hook")).allSatisfy(change -> {
            assertThat(change.path("imageId").asString()).isEqualTo(image.imageId());
            assertThat(change.path("patientId").asString()).isEqualTo(patient);
        });
        assertThat(receiver.changes("/hook")).noneMatch(c -> c.path("imageId").asString().equals(other.imageId()));
        for (WebhookReceiver.Request request : receiver.requests("/hook")) {
            assertThat(request.signedWith(secret)).as("signature of " + request.id()).isTrue();
            assertThat(request.signedWith(aSecret())).isFalse();
            assertThat(request.json().path("type").asString()).isEqualTo("image.changes");
            assertThat(request.json().path("data").path("webhookId").asString())
                    .isEqualTo(hook.path("webhookId").asString());
        }
        assertThat(receiver.requests("/hook")).extracting(WebhookReceiver.Request::id).doesNotHaveDuplicates();

        // the receiver answered before the delivery is recorded: wait for the record
        String webhookPath = "/internal/v1/webhooks/" + hook.path("webhookId").asString();
        await().atMost(DELIVERED).until(() -> !http.get(webhookPath).json().path("delivery").path("deliveredAt")
                .isNull());
        JsonNode state = http.get(webhookPath).json();
        assertThat(state.has("secret")).as("the secret is shown once").isFalse();
        assertThat(state.path("delivery").path("status").asString()).isEqualTo("ACTIVE");
    }

    @Test
    void a_batch_the_receiver_did_not_take_is_sent_again_with_the_same_id_and_changes_until_it_does() {
        String patient = Uploads.aPatient(http);
        receiver.answer("/flaky", 503, 500);
        JsonNode hook = http.postJson("/internal/v1/webhooks", webhook("/flaky", patient, null)).json();
        String id = hook.path("webhookId").asString();
        Uploads.Stored image = Uploads.anAvailableImage(http, kafka, patient, null);

        await().atMost(DELIVERED).until(() -> http.get("/internal/v1/webhooks/" + id).json()
                .path("delivery").path("status").asString().equals("FAILING"));
        JsonNode failing = http.get("/internal/v1/webhooks/" + id).json().path("delivery");
        assertThat(failing.path("lastError").asString()).startsWith("answered HTTP 5");
        assertThat(failing.path("attempts").asInt()).isPositive();
        assertThat(failing.path("failingSince").isNull()).isFalse();
        assertThat(failing.path("nextAttemptAt").isNull()).isFalse();

        // a change made while the batch is retried does not join it: it comes in the next batch
        assertThat(http.send("PATCH", "/internal/v1/images/" + image.imageId(), Map.of("name", "renamed")).status())
                .isEqualTo(200);

        await().atMost(DELIVERED).until(() -> types(receiver.changes("/flaky")).contains("UPDATED"));
        List<WebhookReceiver.Request> sent = receiver.requests("/flaky");
        assertThat(sent).hasSize(4);
        assertThat(sent.subList(0, 3)).extracting(WebhookReceiver.Request::id).containsOnly(sent.get(0).id());
        assertThat(sent.subList(0, 3)).extracting(r -> types(r.changes())).containsOnly(List.of("AVAILABLE"));
        assertThat(sent.get(2).changes().get(0).path("imageId").asString()).isEqualTo(image.imageId());
        assertThat(sent.get(3).id()).isNotEqualTo(sent.get(0).id());
        assertThat(types(sent.get(3).changes())).containsExactly("UPDATED");
        JsonNode recovered = http.get("/internal/v1/webhooks/" + id).json().path("delivery");
        assertThat(recovered.path("attempts").asInt()).isZero();
        assertThat(recovered.path("lastError").isNull()).isTrue();
        assertThat(recovered.path("nextAttemptAt").isNull()).isTrue();
    }

    @Test
    void a_webhook_for_some_types_is_sent_only_those_and_a_deleted_one_nothing_more() {
        String patient = Uploads.aPatient(http);
        String deletions = http.postJson("/internal/v1/webhooks", webhook("/deletions", patient, List.of("DELETED")))
                .json().path("webhookId").asString();
        String gone = http.postJson("/internal/v1/webhooks", webhook("/gone", patient, null)).json()
                .path("webhookId").asString();
        assertThat(http.send("DELETE", "/internal/v1/webhooks/" + gone, null).status()).isEqualTo(204);
        assertThat(http.send("DELETE", "/internal/v1/webhooks/" + gone, null).json().path("code").asString())
                .isEqualTo("WEBHOOK_NOT_FOUND");

        Uploads.Stored image = Uploads.anAvailableImage(http, kafka, patient, null);
        assertThat(http.send("DELETE", "/internal/v1/images/" + image.imageId(), null).status()).isEqualTo(204);

        await().atMost(DELIVERED).until(() -> !receiver.changes("/deletions").isEmpty());
        assertThat(types(receiver.changes("/deletions"))).containsExactly("DELETED");
        assertThat(receiver.requests("/gone")).as("a deleted webhook").isEmpty();
        JsonNode list = http.get("/internal/v1/webhooks").json();
        assertThat(list.path("items")).extracting(w -> w.path("webhookId").asString()).containsExactly(deletions);
        assertThat(list.path("items").get(0).has("secret")).isFalse();
        assertThat(list.path("items").get(0).path("types")).extracting(JsonNode::asString).containsExactly("DELETED");
    }

    @Test
    void a_rotated_secret_signs_beside_the_new_one_until_its_overlap_ends() {
        String patient = Uploads.aPatient(http);
        JsonNode hook = http.postJson("/internal/v1/webhooks", webhook("/rotated", patient, null)).json();
        String id = hook.path("webhookId").asString();
        String old = hook.path("secret").asString();
        var rotated = http.postJson("/internal/v1/webhooks/" + id + "/rotate-secret", Map.of());
        assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
        String fresh = rotated.json().path("secret").asString();
        assertThat(fresh).startsWith("whsec_").isNotEqualTo(old);
        assertThat(http.get("/internal/v1/webhooks/" + id).json().has("secret")).isFalse();

        Uploads.Stored image = Uploads.anAvailableImage(http, kafka, patient, null);
        await().atMost(DELIVERED).until(() -> !receiver.requests("/rotated").isEmpty());
        WebhookReceiver.Request during = receiver.requests("/rotated").get(0);
        assertThat(during.signatures()).hasSize(2);
        assertThat(during.signedWith(fresh)).isTrue();
        assertThat(during.signedWith(old)).isTrue();

        // the overlap over: the new secret alone
        jdbc.sql("update webhooks set previous_secret_until = now() - interval '1 second' where id = ?")
                .param(UUID.fromString(id)).update();
        assertThat(http.send("PATCH", "/internal/v1/images/" + image.imageId(), Map.of("name", "later")).status())
                .isEqualTo(200);
        await().atMost(DELIVERED).until(() -> receiver.requests("/rotated").size() == 2);
        WebhookReceiver.Request after = receiver.requests("/rotated").get(1);
        assertThat(after.signatures()).hasSize(1);
        assertThat(after.signedWith(fresh)).isTrue();
        assertThat(after.signedWith(old)).isFalse();
        assertThat(http.postJson("/internal/v1/webhooks/" + UUID.randomUUID() + "/rotate-secret", Map.of()).json()
                .path("code").asString()).isEqualTo("WEBHOOK_NOT_FOUND");
    }

    @Test
    void an_admin_s_test_request_is_sent_at_once_signed_and_tells_how_the_receiver_answered() {
        JsonNode hook = http.postJson("/internal/v1/webhooks", webhook("/setup", Uploads.aPatient(http), null)).json();
        String id = hook.path("webhookId").asString();
        receiver.answer("/setup", 500);

        JsonNode refused = http.postJson("/internal/v1/webhooks/" + id + "/test", Map.of()).json();
        assertThat(refused.path("delivered").asBoolean()).isFalse();
        assertThat(refused.path("status").asInt()).isEqualTo(500);
        assertThat(refused.path("error").asString()).isEqualTo("answered HTTP 500");
        JsonNode taken = http.postJson("/internal/v1/webhooks/" + id + "/test", Map.of()).json();
        assertThat(taken.path("delivered").asBoolean()).as(taken.toString()).isTrue();
        assertThat(taken.path("status").asInt()).isEqualTo(204);

        assertThat(receiver.requests("/setup")).hasSize(2).allSatisfy(request -> {
            assertThat(request.json().path("type").asString()).isEqualTo("webhook.test");
            assertThat(request.json().path("data").path("webhookId").asString()).isEqualTo(id);
            assertThat(request.signedWith(hook.path("secret").asString())).isTrue();
        });
        // its deliveries are not touched: no failure recorded
        assertThat(http.get("/internal/v1/webhooks/" + id).json().path("delivery").path("status").asString())
                .isEqualTo("ACTIVE");
        assertThat(http.postJson("/internal/v1/webhooks/" + UUID.randomUUID() + "/test", Map.of()).json()
                .path("code").asString()).isEqualTo("WEBHOOK_NOT_FOUND");
    }

    @Test
    void a_webhook_that_fell_behind_the_kept_feed_is_disabled_and_resumed_from_the_oldest_change_kept() {
        String patient = Uploads.aPatient(http);
        // an image available before the webhook exists: only a resumption from the feed's start sends its change
        Uploads.Stored before = Uploads.anAvailableImage(http, kafka, patient, null);
        String pruned = jdbc.sql("select txid::text || '|' || seq from image_changes_pruned").query(String.class).single();
        String available = jdbc.sql("select txid::text || '|' || seq from image_changes where image_id = ?"
                + " and type = 'AVAILABLE'").param(UUID.fromString(before.imageId())).query(String.class).single();
        String id = http.postJson("/internal/v1/webhooks", webhook("/late", patient, null)).json()
                .path("webhookId").asString();
        try {
            // the feed pruned up to just before that change, past the webhook's cursor: changes it was never sent
            // are gone
            prunedAt(available.split("\\|")[0], Long.parseLong(available.split("\\|")[1]) - 1);
            jdbc.sql("update webhooks set feed_cursor = ? where id = ?")
                    .params(Base64.getUrlEncoder().encodeToString("0|0".getBytes(StandardCharsets.UTF_8)),
                            UUID.fromString(id)).update();
            await().atMost(DELIVERED).until(() -> http.get("/internal/v1/webhooks/" + id).json()
                    .path("delivery").path("status").asString().equals("DISABLED"));
            JsonNode delivery = http.get("/internal/v1/webhooks/" + id).json().path("delivery");
            assertThat(delivery.path("lastError").asString()).contains("older than the feed keeps");
            assertThat(delivery.path("nextAttemptAt").isNull()).isTrue();
            assertThat(receiver.requests("/late")).isEmpty();

            // an admin resumes it: sent from the oldest change the feed keeps, its id and secret the same
            var resumed = http.send("POST", "/internal/v1/webhooks/" + id + "/resume", null);
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
            assertThat(resumed.json().path("webhookId").asString()).isEqualTo(id);
            assertThat(resumed.json().path("delivery").path("status").asString()).isEqualTo("FAILING");
            await().atMost(DELIVERED).until(() -> http.get("/internal/v1/webhooks/" + id).json()
                    .path("delivery").path("status").asString().equals("ACTIVE"));
            assertThat(receiver.changes("/late")).extracting(c -> c.path("imageId").asString())
                    .containsExactly(before.imageId());
        } finally {
            String[] position = pruned.split("\\|");
            prunedAt(position[0], Long.parseLong(position[1]));
        }
        assertThat(http.send("POST", "/internal/v1/webhooks/" + UUID.randomUUID() + "/resume", null).json()
                .path("code").asString()).isEqualTo("WEBHOOK_NOT_FOUND");
    }

    private void prunedAt(String txid, long seq) {
        jdbc.sql("update image_changes_pruned set txid = ?::xid8, seq = ?").params(txid, seq).update();
    }

    @Test
    void only_admins_manage_webhooks_and_a_webhook_must_name_a_place_and_what_it_wants() {
        String clinician = "dr-" + UUID.randomUUID().toString().substring(0, 8);
        var refused = http.send("POST", "/internal/v1/webhooks", webhook("/x", null, null), "X-Caller", clinician,
                "X-Caller-Roles", "clinician");
        assertThat(refused.status()).isEqualTo(403);
        for (String call : List.of("/rotate-secret", "/resume")) {
            assertThat(http.send("POST", "/internal/v1/webhooks/" + UUID.randomUUID() + call, null,
                    "X-Caller", clinician, "X-Caller-Roles", "clinician").status()).isEqualTo(403);
        }
        assertThat(http.get("/internal/v1/webhooks", "X-Caller", clinician, "X-Caller-Roles", "clinician").status())
                .isEqualTo(403);
        assertThat(http.postJson("/internal/v1/webhooks", webhook("/x", null, null), "X-Caller", "root",
                "X-Caller-Roles", "admin").status()).isEqualTo(201);

        for (Map<String, Object> bad : List.of(Map.<String, Object>of("url", "ftp://files.example/x"),
                Map.<String, Object>of("url", "http://169.254.169.254/latest/meta-data"),
                Map.<String, Object>of(), webhook("/x", null, List.of("AVAILABLE", "EXPLODED")),
                webhook("/x", null, List.of()))) {
            var answer = http.postJson("/internal/v1/webhooks", bad);
            assertThat(answer.status()).as(bad.toString()).isEqualTo(400);
            assertThat(answer.json().path("code").asString()).isEqualTo("INVALID_WEBHOOK");
        }
        var noPatient = http.postJson("/internal/v1/webhooks", webhook("/x", UUID.randomUUID().toString(), null));
        assertThat(noPatient.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        assertThat(http.get("/internal/v1/webhooks/" + UUID.randomUUID()).json().path("code").asString())
                .isEqualTo("WEBHOOK_NOT_FOUND");
        assertThat(http.get("/internal/v1/webhooks/not-an-id").status()).isEqualTo(404);
    }

    private Map<String, Object> webhook(String path, String patientId, List<String> types) {
        Map<String, Object> body = new HashMap<>();
        body.put("url", receiver.url(path));
        if (patientId != null) {
            body.put("patientId", patientId);
        }
        if (types != null) {
            body.put("types", types);
        }
        return body;
    }

    private static String aSecret() {
        return "whsec_" + Base64.getEncoder().encodeToString(new byte[32]);
    }

    private static List<String> types(List<JsonNode> changes) {
        return changes.stream().map(c -> c.path("type").asString()).toList();
    }
}
