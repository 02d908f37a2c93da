package org.patientimages.metadata.webhook;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.util.List;

/**
 * How webhooks are delivered.
 *
 * @param interval      how often each instance looks for webhooks with changes to send
 * @param senders       at most this many webhooks are sent to at once by one instance
 * @param batch         at most this many changes in one request
 * @param timeout       a receiver that has not answered in this time has failed this attempt
 * @param maxBackoff    the longest wait between two attempts of a failing webhook (it doubles from one second)
 * @param allowLoopback whether a webhook may name this host ({@code localhost}, {@code 127.0.0.1}): off in
 *                      production, where the loopback interface is the services' internal API
 * @param secretOverlap how long a rotated secret keeps signing beside the new one
 * @param secretKey     the key that seals signing secrets in the database (base64 of 32 random bytes; see
 *                      {@link SecretSeal}); without one they are stored as issued
 * @param previousSecretKeys keys that sealed earlier: what they sealed still opens, and is sealed again under
 *                      {@code secretKey} when the service starts
 */
@ConfigurationProperties("patient-images.webhooks")
public record WebhookProperties(@DefaultValue("true") boolean enabled, @DefaultValue("1s") Duration interval,
                                @DefaultValue("4") int senders, @DefaultValue("100") int batch,
                                @DefaultValue("10s") Duration timeout, @DefaultValue("10m") Duration maxBackoff,
                                @DefaultValue("false") boolean allowLoopback,
                                @DefaultValue("24h") Duration secretOverlap, String secretKey,
                                @DefaultValue List<String> previousSecretKeys) {

    /**
     * How long a webhook is leased for one round: its requests, each given {@code timeout} to connect and as long
     * to answer, with time to spare. A round that overruns it stops at its next step (the lease is no longer
     * ours); another instance may meanwhile have sent the same batch, which at least once allows.
     */
    Duration lease() {
        return timeout.multipliedBy(2L * MAX_BATCHES_PER_ROUND + 1);
    }

    /** Hides the keys from the record's {@code toString}, which a log or an actuator may show. */
    @Override
    public String toString() {
        return "WebhookProperties[enabled=" + enabled + ", interval=" + interval + ", senders=" + senders + ", batch="
                + batch + ", timeout=" + timeout + ", maxBackoff=" + maxBackoff + ", allowLoopback=" + allowLoopback
                + ", secretOverlap=" + secretOverlap + ", secretKey=" + (secretKey == null ? "none" : "set")
                + ", previousSecretKeys=" + previousSecretKeys.size() + "]";
    }

    /** A webhook that is behind is sent at most this many batches before the others get their turn. */
    static final int MAX_BATCHES_PER_ROUND = 10;
}
