package org.patientimages.worker.upload;

import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.JobCancelled;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.annotation.PartitionOffset;
import org.springframework.kafka.annotation.TopicPartition;
import org.springframework.stereotype.Component;

/**
 * Unpacks a {@code JobCancelled} event into {@link Cancellations}. Each worker reads the whole topic (a day of it),
 * its one partition assigned from the start outside any consumer group, so that one that starts knows of the
 * cancellations made while it was away, and one that stops leaves no group behind.
 */
@Component
class CancellationListener {

    private final Cancellations cancellations;

    CancellationListener(Cancellations cancellations) {
        this.cancellations = cancellations;
    }

    @KafkaListener(id = "job-cancellations", idIsGroup = false, containerFactory = "cancellationsListenerFactory",
            topicPartitions = @TopicPartition(topic = Topics.JOB_CANCELLATIONS,
                    partitionOffsets = @PartitionOffset(partition = "0", initialOffset = "0")))
    void on(ConsumerRecord<String, byte[]> record) throws InvalidProtocolBufferException {
        JobCancelled cancellation = JobCancelled.parseFrom(record.value());
        if (cancellation.getJobId().isEmpty()) {
            throw new IllegalArgumentException("a cancellation without a job id");
        }
        cancellations.cancelled(cancellation.getJobId());
    }
}
