package org.patientimages.gateway.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.patientimages.gateway.metadata.MetadataClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Sends audit records to the metadata-service in batches, so that a busy gateway costs the audit log one
 * request and one transaction per batch instead of per call. A record leaves as soon as the sender is free,
 * together with every record that arrived while the last batch was on its way; a batch the metadata-service does not take is sent again with back-off (records
 * carry their own ids, so a batch recorded twice is recorded once). A graceful stop sends what is left after
 * the last request has been answered. Records wait in memory only: a gateway killed outright loses those not
 * yet sent, and when the metadata-service stays away past {@code capacity} records the
 * newest are dropped and counted ({@code audit_dropped_total}) rather than the gateway running out of memory.
 */
@Component
public class AuditTrail implements SmartLifecycle {

    @ConfigurationProperties("patient-images.audit")
    public record AuditProperties(@DefaultValue("500") int batchSize, @DefaultValue("100000") int capacity) {
    }

    /** How long the idle sender waits for a record before it looks whether it should stop. */
    private static final Duration IDLE_POLL = Duration.ofMillis(200);

    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);

    private final MetadataClient metadata;
    private final AuditProperties properties;
    private final BlockingQueue<Map<String, Object>> pending;
    private final Counter dropped;
    private final java.util.concurrent.Semaphore stopping = new java.util.concurrent.Semaphore(0);
    private volatile boolean running;
    private Thread sender;

    AuditTrail(MetadataClient metadata, AuditProperties properties, MeterRegistry registry) {
        this.metadata = metadata;
        this.properties = properties;
        this.pending = new LinkedBlockingQueue<>(properties.capacity());
        this.dropped = registry.counter("audit.dropped");
        registry.gauge("audit.pending", pending, BlockingQueue::size);
    }

    /** Queues one record; never blocks the request. */
    public void append(Map<String, Object> record) {
        if (!pending.offer(record)) {
            dropped.increment();
            log.error("audit trail full ({} records waiting): a record of request {} was dropped", pending.size(),
                    record.get("requestId"));
        }
    }

    private void loop() {
        Duration backoff = Duration.ofMillis(200);
        List<Map<String, Object>> batch = new ArrayList<>();
        while (running || !pending.isEmpty() || !batch.isEmpty()) {
            try {
                if (batch.isEmpty()) {
                    Map<String, Object> first = pending.poll(IDLE_POLL.toMillis(), TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    // whatever arrived while the last batch was on its way goes along
                    pending.drainTo(batch, properties.batchSize() - 1);
                }
                metadata.appendAudit(batch);
                batch.clear();
                backoff = Duration.ofMillis(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    log.error("audit trail: {} records could not be sent before the stop: {}", batch.size() + pending.size(),
                            e.toString());
                    return;
                }
                log.warn("audit trail: records could not be sent ({} of them), retrying in {} ms: {}", batch.size(),
                        backoff.toMillis(), e.toString());
                try {
                    // woken early by stop()
                    stopping.tryAcquire(backoff.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10)
                        : backoff.multipliedBy(2);
            }
        }
    }

    @Override
    public void start() {
        running = true;
        sender = new Thread(this::loop, "audit-trail");
        sender.setDaemon(true);
        sender.start();
    }

    /** After the web server has finished its requests: send what is left, then stop. */
    @Override
    public void stop() {
        running = false;
        stopping.release();
        try {
            sender.join(Duration.ofSeconds(15).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops after the web server's graceful shutdown (which stops at DEFAULT_PHASE - 1024). */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }
}
