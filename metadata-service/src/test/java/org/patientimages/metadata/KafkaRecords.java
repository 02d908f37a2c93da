package org.patientimages.metadata;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.patientimages.localstack.testing.TestTopics;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.utils.KafkaTestUtils;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;


/** What the service published, read back from the broker by a consumer group of the test's own. */
final class KafkaRecords {

    private KafkaRecords() {
    }

    /** At least {@code count} records of the topic whose key passes, from its start. */
    static List<ConsumerRecord<String, byte[]>> awaitRecords(EmbeddedKafkaBroker broker, String topic, Predicate<String> key,
                                                      int count) {
        Map<String, Object> props = KafkaTestUtils.consumerProps(broker, "test-" + java.util.UUID.randomUUID(), false);
        props.put("auto.offset.reset", "earliest");
        try (Consumer<String, byte[]> consumer = new DefaultKafkaConsumerFactory<>(props, new StringDeserializer(),
                new ByteArrayDeserializer()).createConsumer()) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (key.test(r.key())) {
                        found.add(r);
                    }
                });
                return found.size() >= count;
            });
            return found;
        }
    }

    /** Every record of the topic whose key passes, from its start to its end as of now. */
    static List<ConsumerRecord<String, byte[]>> recordsToEnd(EmbeddedKafkaBroker broker, String topic,
                                                             Predicate<String> key) {
        Map<String, Object> props = KafkaTestUtils.consumerProps(broker, "test-" + java.util.UUID.randomUUID(), false);
        return TestTopics.recordsToEnd(props, topic).stream().filter(r -> key.test(r.key())).toList();
    }
}
