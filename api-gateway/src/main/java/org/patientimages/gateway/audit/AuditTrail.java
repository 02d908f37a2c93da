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
import org.springframework.util.unit.DataSize;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sends audit records to the metadata-service in batches, so that a busy gateway costs the audit log one
 * request and one transaction per batch instead of per call. Each record is first written to the gateway's
 * {@link AuditJournal} on its disk, as its call ends; the sender takes them from there as soon as it is free,
 * together with every record that arrived while the last batch was on its way, and a batch the metadata-service does
 * not take is sent again with back-off (records carry their own ids, so a batch recorded twice is recorded once). A
 * gateway killed outright loses none: its next start sends what the journal holds; a graceful stop sends what is left
 * after the last request was answered, and what the metadata-service does not take then waits in the journal for the
 * next start. When the metadata-service stays away past {@code journal-max-size} of records, the newest are dropped
 * and counted ({@code audit_dropped_total}) rather than the gateway filling its disk.
 */
@Component
public class AuditTrail implements SmartLifecycle {

    /**
     * @param journal            this gateway's journal directory, its own (a gateway refuses to start on one that
     *                           another holds)
     * @param journalSegmentSize a journal file is closed and a new one begun past this size; a file goes once all its
     *                           records were taken, and a killed gateway's next start sends its last file again
     */
    @ConfigurationProperties("patient-images.audit")
    public record AuditProperties(@DefaultValue("500") int batchSize,
                                  @DefaultValue("data/audit-journal") Path journal,
                                  @DefaultValue("1GB") DataSize journalMaxSize,
                                  @DefaultValue("1MB") DataSize journalSegmentSize) {
    }

    /** How long the idle sender waits for a record before it looks whether it should stop. */
    private static final Duration IDLE_POLL = Duration.ofMillis(200);
    /** The journal is put on the disk at most this long after a record was written to it. */
    private static final Duration FORCE_EVERY = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);

    private final MetadataClient metadata;
    private final AuditProperties properties;
    private final JsonMapper json;
    private final AuditJournal journal;
    private final Counter dropped;
    private final java.util.concurrent.Semaphore stopping = new java.util.concurrent.Semaphore(0);
    private volatile boolean running;
    private Thread sender;

    AuditTrail(MetadataClient metadata, AuditProperties properties, JsonMapper json, MeterRegistry registry)
            throws IOException {
        this.metadata = metadata;
        this.properties = properties;
        this.json = json;
        this.journal = AuditJournal.open(properties.journal(), properties.journalSegmentSize().toBytes(),
                properties.journalMaxSize().toBytes());
        this.dropped = registry.counter("audit.dropped");
        registry.gauge("audit.pending.bytes", journal, AuditJournal::bytes);
        if (journal.bytes() > 0) {
            log.info("audit trail: {} bytes of records from before the last stop are sent first", journal.bytes());
        }
    }

    /** Writes one record to the journal; never waits for the metadata-service. */
    public void append(Map<String, Object> record) {
        try {
            if (journal.append(json.writeValueAsBytes(record))) {
                return;
            }
            log.error("audit journal full ({} bytes waiting): a record of request {} was dropped", journal.bytes(),
                    record.get("requestId"));
        } catch (IOException e) {
            log.error("audit journal not written: a record of request {} was dropped: {}", record.get("requestId"),
                    e.toString());
        }
        dropped.increment();
    }

    private void loop() {
        Duration backoff = Duration.ofMillis(200);
        long forced = System.nanoTime();
        AuditJournal.Batch batch = null;
        while (true) {
            try {
                if (System.nanoTime() - forced >= FORCE_EVERY.toNanos()) {
                    journal.force();
                    forced = System.nanoTime();
                }
                if (batch == null) {
                    batch = journal.next(properties.batchSize(), IDLE_POLL);
                    if (batch.records().isEmpty()) {
                        batch = null;
                        if (!running) {
                            return;
                        }
                        continue;
                    }
                }
                List<JsonNode> records = readable(batch.records());
                if (!records.isEmpty()) {
                    metadata.appendAudit(records);
                }
                journal.taken(batch);
                batch = null;
                backoff = Duration.ofMillis(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    log.warn("audit trail: records not sent before the stop wait in the journal ({} bytes) for the "
                            + "next start: {}", journal.bytes(), e.toString());
                    return;
                }
                log.warn("audit trail: records could not be sent ({} bytes waiting), retrying in {} ms: {}",
                        journal.bytes(), backoff.toMillis(), e.toString());
                try {
                    // woken early by stop()
                    stopping.tryAcquire(backoff.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(10)) > 0 ? Duration.ofSeconds(10)
                        : backoff.multipliedBy(2);
            }
        }
    }

    /** The records of a batch as JSON; a line that is none (never written so by us) is skipped and counted. */
    private List<JsonNode> readable(List<byte[]> lines) {
        List<JsonNode> records = new ArrayList<>(lines.size());
        for (byte[] line : lines) {
            try {
                records.add(json.readTree(line));
            } catch (JacksonException e) {
                dropped.increment();
                log.error("audit journal: a line that is no record was skipped");
            }
        }
        return records;
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
        try {
            journal.close();
        } catch (IOException e) {
            log.warn("audit journal not closed cleanly: {}", e.toString());
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
