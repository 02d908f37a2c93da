package org.patientimages.worker.report;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.patientimages.events.RequestIdHeader;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.lang.management.ManagementFactory;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Publishes what this worker reports and waits for Kafka's acknowledgement ({@code acks=all}), so that the record
 * it answers is committed only once its report is safe.
 */
@Component
public class EventPublisher {

    /** This worker process, as its reports name it. */
    public static final String WORKER_ID = ManagementFactory.getRuntimeMXBean().getName();

    private final KafkaTemplate<String, byte[]> kafka;

    EventPublisher(KafkaTemplate<String, byte[]> kafka) {
        this.kafka = kafka;
    }

    /** @param what the record in the words of an error message, e.g. "an event of job …" */
    public void publish(String topic, String key, byte[] value, String what) {
        try {
            var record = new ProducerRecord<>(topic, key, value);
            RequestIdHeader.put(record.headers(), org.slf4j.MDC.get("requestId"));
            kafka.send(record).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing " + what, ex);
        } catch (ExecutionException | TimeoutException ex) {
            throw new IllegalStateException("Kafka did not acknowledge " + what, ex);
        }
    }
}
