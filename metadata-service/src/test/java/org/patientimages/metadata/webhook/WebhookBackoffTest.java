package org.patientimages.metadata.webhook;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class WebhookBackoffTest {

    @Test
    void a_failing_webhook_waits_twice_as_long_after_each_attempt_up_to_the_most_allowed() {
        Duration max = Duration.ofMinutes(10);
        assertThat(WebhookDelivery.backoff(1, max)).isEqualTo(Duration.ofSeconds(1));
        assertThat(WebhookDelivery.backoff(2, max)).isEqualTo(Duration.ofSeconds(2));
        assertThat(WebhookDelivery.backoff(5, max)).isEqualTo(Duration.ofSeconds(16));
        assertThat(WebhookDelivery.backoff(10, max)).isEqualTo(Duration.ofSeconds(512));
        assertThat(WebhookDelivery.backoff(11, max)).isEqualTo(max);
        assertThat(WebhookDelivery.backoff(1_000, max)).isEqualTo(max);
    }
}
