package org.patientimages.metadata.webhook;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.patientimages.localstack.testing.WebhookReceiver;
import org.patientimages.metadata.RunningService;
import org.springframework.beans.factory.annotation.Autowired;
import tools.jackson.databind.JsonNode;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Webhook signing secrets sealed in the real PostgreSQL, opened to sign, and sealed again under the current key. */
class SealedSecretsIT extends RunningService {

    private final WebhookReceiver receiver = new WebhookReceiver();

    @Autowired
    WebhookRepository webhooks;

    @AfterEach
    void stop() {
        jdbc.sql("delete from webhooks").update();
        receiver.close();
    }

    @Test
    void a_secret_is_sealed_at_rest_and_one_stored_otherwise_is_sealed_again_and_still_signs() {
        JsonNode hook = http.postJson("/internal/v1/webhooks", Map.of("url", receiver.url("/sealed"))).json();
        UUID id = UUID.fromString(hook.path("webhookId").asString());
        String secret = hook.path("secret").asString();
        String current = SecretSeal.PREFIX + stored(id).split(":")[2] + ":";
        assertThat(stored(id)).startsWith(SecretSeal.PREFIX).doesNotContain(secret.substring("whsec_".length()));
        assertThat(testRequest(id, "/sealed").signedWith(secret)).isTrue();

        // a secret stored as issued, before a key was set: it signs, and is sealed again
        String issued = WebhookSignature.newSecret();
        jdbc.sql("update webhooks set secret = ? where id = ?").params(issued, id).update();
        assertThat(testRequest(id, "/sealed").signedWith(issued)).isTrue();
        assertThat(webhooks.sealAgain()).isEqualTo(new WebhookRepository.SealedAgain(1, 0));
        assertThat(stored(id)).startsWith(current).doesNotContain(issued.substring("whsec_".length()));
        assertThat(testRequest(id, "/sealed").signedWith(issued)).isTrue();

        // both secrets of a rotation sealed under the previous key: they sign, and are sealed again
        SecretSeal previous = new SecretSeal(PREVIOUS_SECRET_KEY, List.of());
        String older = WebhookSignature.newSecret();
        String newer = WebhookSignature.newSecret();
        jdbc.sql("update webhooks set secret = ?, previous_secret = ?, previous_secret_until = ? where id = ?")
                .params(previous.seal(id, newer), previous.seal(id, older),
                        Timestamp.from(Instant.now().plus(1, ChronoUnit.HOURS)), id).update();
        WebhookReceiver.Request both = testRequest(id, "/sealed");
        assertThat(both.signedWith(newer)).isTrue();
        assertThat(both.signedWith(older)).isTrue();
        assertThat(webhooks.sealAgain()).isEqualTo(new WebhookRepository.SealedAgain(1, 0));
        assertThat(jdbc.sql("select secret || ' ' || previous_secret from webhooks where id = ?").param(id)
                .query(String.class).single()).matches("\\Q" + current + "\\E\\S+ \\Q" + current + "\\E\\S+");
        assertThat(webhooks.sealAgain()).as("nothing left to seal").isEqualTo(new WebhookRepository.SealedAgain(0, 0));
    }

    @Test
    void a_secret_that_does_not_open_fails_its_requests_until_it_is_rotated() {
        JsonNode hook = http.postJson("/internal/v1/webhooks", Map.of("url", receiver.url("/lost"))).json();
        UUID id = UUID.fromString(hook.path("webhookId").asString());
        // sealed under a key this instance does not have
        SecretSeal unknown = new SecretSeal(java.util.Base64.getEncoder().encodeToString(new byte[32]), List.of());
        jdbc.sql("update webhooks set secret = ? where id = ?")
                .params(unknown.seal(id, WebhookSignature.newSecret()), id).update();
        assertThat(webhooks.sealAgain()).isEqualTo(new WebhookRepository.SealedAgain(0, 1));
        JsonNode failed = http.postJson("/internal/v1/webhooks/" + id + "/test", Map.of()).json();
        assertThat(failed.path("delivered").asBoolean()).isFalse();
        assertThat(failed.path("error").asString()).isEqualTo("its signing secret does not open with the keys set;"
                + " rotate its secret");
        assertThat(receiver.requests("/lost")).noneMatch(r -> r.json().path("type").asString().equals("webhook.test"));

        String rotated = http.postJson("/internal/v1/webhooks/" + id + "/rotate-secret", Map.of()).json()
                .path("secret").asString();
        WebhookReceiver.Request signed = testRequest(id, "/lost");
        assertThat(signed.signedWith(rotated)).isTrue();
        assertThat(signed.signatures()).as("the secret that did not open signs nothing").hasSize(1);
        // and a secret sealed for another webhook does not open on this one
        JsonNode other = http.postJson("/internal/v1/webhooks", Map.of("url", receiver.url("/other"))).json();
        jdbc.sql("update webhooks set secret = (select secret from webhooks where id = ?), previous_secret = null"
                + " where id = ?::uuid").params(id, other.path("webhookId").asString()).update();
        assertThat(http.postJson("/internal/v1/webhooks/" + other.path("webhookId").asString() + "/test", Map.of())
                .json().path("delivered").asBoolean()).isFalse();
    }

    private String stored(UUID id) {
        return jdbc.sql("select secret from webhooks where id = ?").param(id).query(String.class).single();
    }

    /** Has the service send the webhook its test request, and the request as the receiver got it. */
    private WebhookReceiver.Request testRequest(UUID id, String path) {
        JsonNode answer = http.postJson("/internal/v1/webhooks/" + id + "/test", Map.of()).json();
        assertThat(answer.path("delivered").asBoolean()).as(answer.toString()).isTrue();
        List<WebhookReceiver.Request> tests = receiver.requests(path).stream()
                .filter(r -> r.json().path("type").asString().equals("webhook.test")).toList();
        return tests.get(tests.size() - 1);
    }
}
