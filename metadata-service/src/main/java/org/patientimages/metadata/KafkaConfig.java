package org.patientimages.metadata;

import org.patientimages.events.KafkaHealth;

import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.patientimages.events.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.RetryListener;
import org.springframework.util.backoff.ExponentialBackOff;

import java.sql.SQLException;
import java.time.Duration;

/**
 * The topics this service writes and reads, and its one Kafka error handler: transient failures (PostgreSQL
 * unavailable) are retried with exponential back-off while the events wait in Kafka; a record that cannot
 * be decoded goes to the dead-letter topic on the first attempt, so a poison record never blocks its
 * partition.
 */
@Configuration
class KafkaConfig {

    private static final Logger log = LoggerFactory.getLogger(KafkaConfig.class);

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
                topic(Topics.IMAGE_DELETIONS, p), topic(Topics.IMAGE_DELETIONS + Topics.DEAD_LETTER_SUFFIX, p),
                topic(Topics.INTEGRITY_CHECKS, p), topic(Topics.INTEGRITY_CHECKS + Topics.DEAD_LETTER_SUFFIX, p),
                topic(Topics.INTEGRITY_RESULTS, p), topic(Topics.INTEGRITY_RESULTS + Topics.DEAD_LETTER_SUFFIX, p),
                cancellations(p), topic(Topics.JOB_CANCELLATIONS + Topics.DEAD_LETTER_SUFFIX, p));
    }

    private static NewTopic topic(String name, KafkaTopicsProperties p) {
        return TopicBuilder.name(name).partitions(p.partitions()).replicas(p.replicationFactor()).build();
    }

    /** Read whole by every worker that starts: kept a day, in one partition. */
    private static NewTopic cancellations(KafkaTopicsProperties p) {
        return TopicBuilder.name(Topics.JOB_CANCELLATIONS).partitions(1).replicas(p.replicationFactor())
                .config("retention.ms", Long.toString(Topics.JOB_CANCELLATIONS_RETENTION_MS)).build();
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
        handler.setRetryListeners(new RetryListener() {
            @Override
            public void failedDelivery(ConsumerRecord<?, ?> record, Exception e, int attempt) {
                log.warn("record {}-{}@{} failed (attempt {}), retrying with back-off: {}", record.topic(),
                        record.partition(), record.offset(), attempt, cause(e));
            }

            @Override
            public void failedDelivery(ConsumerRecords<?, ?> records, Exception e, int attempt) {
                log.warn("the records of a poll failed ({} of them, attempt {}), retrying with back-off: {}", records.count(),
                        attempt, cause(e));
            }
        });
        return handler;
    }

    /**
     * What failed, for the log: the innermost exception's class and, from the database, its SQLSTATE; not its
     * message, which may quote values.
     */
    static String cause(Throwable e) {
        Throwable root = e;
        String sqlState = null;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            if (root instanceof SQLException sql && sql.getSQLState() != null) {
                sqlState = sql.getSQLState();
            }
        }
        return root.getClass().getName() + (sqlState == null ? "" : " (SQLSTATE " + sqlState + ")");
    }
}
