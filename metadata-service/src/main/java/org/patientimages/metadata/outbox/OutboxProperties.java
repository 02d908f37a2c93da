package org.patientimages.metadata.outbox;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/** How the outbox relay publishes. */
@ConfigurationProperties("patient-images.outbox")
public record OutboxProperties(@DefaultValue("1s") Duration pollInterval,
                               @DefaultValue("30s") Duration maxBackoff,
                               @DefaultValue("30s") Duration sendTimeout) {
}
