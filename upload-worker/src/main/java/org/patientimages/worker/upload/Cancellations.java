package org.patientimages.worker.upload;

import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.JobCancelled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The jobs clients cancelled, as this worker heard of them: each worker reads the whole cancellations topic (a day
 * of it) in a consumer group of its own, so that one that starts knows of the cancellations made while it was away.
 * A job it comes to afterwards is skipped, and one it is retrying is not tried again. A cancellation it has not
 * heard of yet changes nothing that matters: the metadata-service ignores what such a job reports and has its
 * objects removed. The most recent 100,000 are remembered.
 */
@Component
public class Cancellations {

    private static final Logger log = LoggerFactory.getLogger(Cancellations.class);
    private static final int REMEMBERED = 100_000;

    private final Set<String> cancelled = Collections.newSetFromMap(Collections.synchronizedMap(
            new LinkedHashMap<>(1024, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > REMEMBERED;
                }
            }));

    @KafkaListener(id = "job-cancellations", topics = Topics.JOB_CANCELLATIONS,
            groupId = "upload-workers-cancellations-#{T(java.util.UUID).randomUUID()}",
            properties = "auto.offset.reset=earliest")
    void on(ConsumerRecord<String, byte[]> record) throws InvalidProtocolBufferException {
        JobCancelled cancellation = JobCancelled.parseFrom(record.value());
        if (cancellation.getJobId().isEmpty()) {
            throw new IllegalArgumentException("a cancellation without a job id");
        }
        if (cancelled.add(cancellation.getJobId())) {
            log.info("job {} was cancelled", cancellation.getJobId());
        }
    }

    public boolean isCancelled(String jobId) {
        return cancelled.contains(jobId);
    }
}
