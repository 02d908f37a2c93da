package org.patientimages.worker.upload;

import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.JobCancelled;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Unpacks a {@code JobCancelled} event into {@link Cancellations}. Each worker reads the whole topic (a day of it)
 * in a consumer group of its own, so that one that starts knows of the cancellations made while it was away.
 */
@Component
class CancellationListener {

    private final Cancellations cancellations;

    CancellationListener(Cancellations cancellations) {
        this.cancellations = cancellations;
    }

    @KafkaListener(id = "job-cancellations", topics = Topics.JOB_CANCELLATIONS,
            groupId = "upload-workers-cancellations-#{T(java.util.UUID).randomUUID()}",
            properties = "auto.offset.reset=earliest")
    void on(ConsumerRecord<String, byte[]> record) throws InvalidProtocolBufferException {
        JobCancelled cancellation = JobCancelled.parseFrom(record.value());
        if (cancellation.getJobId().isEmpty()) {
            throw new IllegalArgumentException("a cancellation without a job id");
        }
        cancellations.cancelled(cancellation.getJobId());
    }
}
