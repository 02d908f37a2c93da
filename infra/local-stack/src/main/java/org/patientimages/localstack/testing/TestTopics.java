package org.patientimages.localstack.testing;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What is on a topic, read back by the tests. */
public final class TestTopics {

    private TestTopics() {
    }

    /**
     * Every record of the topic from its start to its end as of this call: once this returns, a record written
     * before it is among them, however late it was written. {@code consumerProps}: at least the bootstrap servers.
     */
    public static List<ConsumerRecord<String, byte[]>> recordsToEnd(Map<String, Object> consumerProps, String topic) {
        try (var consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            Instant deadline = Instant.now().plusSeconds(30);
            while (!partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p))) {
                if (Instant.now().isAfter(deadline)) {
                    throw new AssertionError("the end of " + topic + " was not reached in 30 s");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }
}
