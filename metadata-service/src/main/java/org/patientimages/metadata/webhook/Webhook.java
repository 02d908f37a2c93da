package org.patientimages.metadata.webhook;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;

/**
 * A webhook as the API shows it. {@code secret} only in the answer that created it; {@code types} null for every
 * type, {@code patientId} null for every patient.
 */
public record Webhook(String webhookId, String url, String patientId, List<String> types, String createdBy,
                      String createdAt, Delivery delivery,
                      @JsonInclude(JsonInclude.Include.NON_NULL) String secret) {

    /**
     * How its deliveries go: {@code ACTIVE} (the last attempt was answered, or none was due yet), {@code FAILING}
     * (retried since {@code failingSince}, next at {@code nextAttemptAt}, null otherwise) or {@code DISABLED} (it fell further
     * behind than the change feed keeps; nothing more is sent).
     */
    public record Delivery(String status, String deliveredAt, String failingSince, int attempts, String lastError,
                           String nextAttemptAt) {
    }
}
