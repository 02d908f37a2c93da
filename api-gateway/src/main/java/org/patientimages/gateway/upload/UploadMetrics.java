package org.patientimages.gateway.upload;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/**
 * What the gateway counts of uploads, whichever way their bytes come: {@code uploads.accepted},
 * {@code uploads.rejected} by reason, {@code uploads.received} in bytes, {@code uploads.resumable.created}.
 */
@Component
class UploadMetrics {

    private final MeterRegistry registry;
    private final DistributionSummary received;

    UploadMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.received = DistributionSummary.builder("uploads.received").baseUnit("bytes")
                .description("Bytes of files received").register(registry);
    }

    void accepted() {
        accepted(1);
    }

    void accepted(int uploads) {
        registry.counter("uploads.accepted").increment(uploads);
    }

    void rejected(String reason) {
        registry.counter("uploads.rejected", "reason", reason).increment();
    }

    void received(long bytes) {
        received.record(bytes);
    }

    void resumableCreated() {
        registry.counter("uploads.resumable.created").increment();
    }
}
