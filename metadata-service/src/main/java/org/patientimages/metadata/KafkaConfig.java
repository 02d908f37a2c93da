package org.patientimages.metadata;

import org.patientimages.events.KafkaHealth;

import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.TopicPartition;
import org.patientimages.events.Topics;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;

import java.time.Duration;

/**
 * The topics this service writes and reads, and its one Kafka error handler: transient failures (PostgreSQL
 * unavailable) are retried with exponential back-off while the events wait in Kafka; a record that cannot
 * be decoded goes to the dead-letter topic on the first attempt, so a poison record never blocks its
 * partition.
 */
@Configuration
class KafkaConfig {

    @ConfigurationProperties("patient-images.kafka")
    record KafkaTopicsProperties(@DefaultValue("12") int partitions, @DefaultValue("1") short replicationFactor,
                                 @DefaultValue("15m") Duration retryFor) {
    }

    /** Readiness: the cluster answers. */
    @Bean("kafkaHealthIndicator")
    KafkaHealth kafkaHealth(KafkaAdmin admin) {
        return new KafkaHealth(admin.getConfigurationProperties());
    }

    @Bean
    KafkaAdmin.NewTopics pipelineTopics(KafkaTopicsProperties p) {
        return new KafkaAdmin.NewTopics(
                topic(Topics.UPLOADS, p), topic(Topics.UPLOADS + Topics.DEAD_LETTER_SUFFIX, p),
                topic(Topics.JOB_EVENTS, p), topic(Topics.JOB_EVENTS + Topics.DEAD_LETTER_SUFFIX, p),
                topic(Topics.IMAGE_DELETIONS, p), topic(Topics.IMAGE_DELETIONS + Topics.DEAD_LETTER_SUFFIX, p));
    }

    private static NewTopic topic(String name, KafkaTopicsProperties p) {
        return TopicBuilder.name(name).partitions(p.partitions()).replicas(p.replicationFactor()).build();
    }

    @Bean
    DefaultErrorHandler kafkaErrorHandler(KafkaOperations<Object, Object> kafka, KafkaTopicsProperties p) {
        var deadLetters = new DeadLetterPublishingRecoverer(kafka,
                (record, e) -> new TopicPartition(record.topic() + Topics.DEAD_LETTER_SUFFIX, record.partition()));
        var backOff = new ExponentialBackOff(500, 2.0);
        backOff.setMaxInterval(30_000);
        backOff.setMaxElapsedTime(p.retryFor().toMillis());
        var handler = new DefaultErrorHandler(deadLetters, backOff);
        handler.addNotRetryableExceptions(InvalidProtocolBufferException.class, IllegalArgumentException.class);
        return handler;
    }
}
