package org.patientimages.metadata.outbox;

import org.patientimages.events.RequestIdHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Publishes the outbox to Kafka: locks the oldest messages, sends them, waits for every acknowledgement
 * ({@code acks=all}) and deletes them in the same transaction. A message is deleted only after Kafka
 * acknowledged it, so a crash at any point means a resend (consumers deduplicate), never a loss.
 * Woken right after each registration, and polls on its own in case a wake-up was missed.
 */
@Component
public class OutboxRelay implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);
    private static final int BATCH = 200;

    private final OutboxRepository outbox;
    private final KafkaTemplate<String, byte[]> kafka;
    private final TransactionTemplate tx;
    private final OutboxProperties properties;
    private final Semaphore wakeUps = new Semaphore(0);
    private volatile Thread thread;
    private volatile boolean running;

    OutboxRelay(OutboxRepository outbox, KafkaTemplate<String, byte[]> kafka, TransactionTemplate tx,
                OutboxProperties properties) {
        this.outbox = outbox;
        this.kafka = kafka;
        this.tx = tx;
        this.properties = properties;
    }

    /** Asks the relay to publish now. */
    public void wake() {
        wakeUps.release();
    }

    /** Asks the relay to publish once the caller's transaction, which added to the outbox, has committed. */
    public void wakeAfterCommit() {
        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
            @Override
            public void afterCommit() {
                wake();
            }
        });
    }

    /** Publishes one batch. @return how many messages were published */
    int publishBatch() {
        Integer published = tx.execute(status -> {
            List<OutboxRepository.Message> batch = outbox.lockOldest(BATCH);
            if (batch.isEmpty()) {
                return 0;
            }
            List<CompletableFuture<SendResult<String, byte[]>>> sends = new ArrayList<>(batch.size());
            for (OutboxRepository.Message m : batch) {
                var record = new org.apache.kafka.clients.producer.ProducerRecord<>(m.topic(), m.key(), m.payload());
                RequestIdHeader.put(record.headers(), m.requestId());
                sends.add(kafka.send(record));
            }
            try {
                CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
                        .get(properties.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("Kafka did not acknowledge the outbox batch", e);
            }
            outbox.delete(batch);
            return batch.size();
        });
        return published == null ? 0 : published;
    }

    private void loop() {
        Duration backoff = properties.pollInterval();
        boolean failing = false;
        while (running) {
            try {
                int n = publishBatch();
                if (failing) {
                    log.info("outbox relay publishing again");
                    failing = false;
                }
                backoff = properties.pollInterval();
                if (n == BATCH) {
                    continue;
                }
            } catch (RuntimeException e) {
                if (!failing) {
                    log.warn("outbox relay cannot publish, retrying with back-off: {}", e.toString());
                    failing = true;
                }
                backoff = backoff.multipliedBy(2).compareTo(properties.maxBackoff()) > 0
                        ? properties.maxBackoff() : backoff.multipliedBy(2);
            }
            try {
                if (wakeUps.tryAcquire(backoff.toMillis(), TimeUnit.MILLISECONDS)) {
                    wakeUps.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void start() {
        running = true;
        thread = new Thread(this::loop, "outbox-relay");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void stop() {
        running = false;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
