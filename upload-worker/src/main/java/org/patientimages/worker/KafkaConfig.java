package org.patientimages.worker;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.ContainerCustomizer;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;

import org.patientimages.events.KafkaHealth;

import io.micrometer.core.instrument.MeterRegistry;

import com.google.protobuf.InvalidProtocolBufferException;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.UploadAccepted;
import org.patientimages.worker.upload.FailureCode;
import org.patientimages.worker.upload.JobReporter;
import org.patientimages.worker.upload.UploadFailedException;
import org.patientimages.worker.upload.UploadJob;
import org.patientimages.worker.upload.UploadProcessor;
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
import org.springframework.util.backoff.ExponentialBackOff;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The worker's one Kafka error handler. Transient failures (object store or Kafka unavailable) are retried
 * with exponential back-off, each retry reported as {@code RETRY_SCHEDULED}; when the budget is spent the
 * job is reported {@code FAILED} and the record goes to the dead-letter topic. Failures no retry can mend
 * (staged file missing or changed, a record that cannot be decoded) go there on the first attempt; the
 * partition keeps flowing.
 */
@Configuration
class KafkaConfig {

    private static final Logger log = LoggerFactory.getLogger(KafkaConfig.class);

    @ConfigurationProperties("patient-images.worker")
    record WorkerProperties(@DefaultValue("4") int concurrency, @DefaultValue("1s") Duration retryInitial,
                            @DefaultValue("30s") Duration retryMaxInterval, @DefaultValue("5m") Duration retryFor,
                            @DefaultValue("12") int partitions, @DefaultValue("1") short replicationFactor,
                            @DefaultValue("60s") Duration shutdownGrace) {
    }

    /**
     * Graceful stop: a stopping worker polls no more and waits up to {@code shutdown-grace} for its jobs in
     * flight. A job that ends in time is committed; one that does not is never committed, so the group hands it
     * to another worker, which finishes it (each step is idempotent).
     */
    @Bean
    ContainerCustomizer<Object, Object, ConcurrentMessageListenerContainer<Object, Object>> gracefulStop(WorkerProperties p) {
        return container -> container.getContainerProperties().setShutdownTimeout(p.shutdownGrace().toMillis());
    }

    @Bean
    KafkaAdmin.NewTopics pipelineTopics(WorkerProperties p) {
        return new KafkaAdmin.NewTopics(topic(Topics.UPLOADS, p), topic(Topics.UPLOADS + Topics.DEAD_LETTER_SUFFIX, p),
                topic(Topics.JOB_EVENTS, p), topic(Topics.IMAGE_DELETIONS, p),
                topic(Topics.IMAGE_DELETIONS + Topics.DEAD_LETTER_SUFFIX, p), topic(Topics.INTEGRITY_CHECKS, p),
                topic(Topics.INTEGRITY_CHECKS + Topics.DEAD_LETTER_SUFFIX, p), topic(Topics.INTEGRITY_RESULTS, p),
                TopicBuilder.name(Topics.JOB_CANCELLATIONS).partitions(1).replicas(p.replicationFactor())
                        .config("retention.ms", Long.toString(Topics.JOB_CANCELLATIONS_RETENTION_MS)).build(),
                topic(Topics.JOB_CANCELLATIONS + Topics.DEAD_LETTER_SUFFIX, p));
    }

    /**
     * The cancellations' listeners: each worker reads the topic's one partition whole, from its start, assigned
     * rather than in a consumer group (no {@code group.id}), and commits nothing. So a worker that starts knows every
     * cancellation still kept, and one that stops leaves no consumer group behind. Otherwise as Boot's consumers
     * (servers, TLS), and with the same error handler.
     */
    @Bean
    ConcurrentKafkaListenerContainerFactory<Object, Object> cancellationsListenerFactory(
            ConsumerFactory<Object, Object> consumers, DefaultErrorHandler kafkaErrorHandler) {
        Map<String, Object> config = new HashMap<>(consumers.getConfigurationProperties());
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        var factory = new ConcurrentKafkaListenerContainerFactory<Object, Object>();
        factory.setConsumerFactory(new DefaultKafkaConsumerFactory<>(config));
        factory.getContainerProperties().setAckMode(ContainerProperties.AckMode.MANUAL);
        factory.setCommonErrorHandler(kafkaErrorHandler);
        return factory;
    }

    private static NewTopic topic(String name, WorkerProperties p) {
        return TopicBuilder.name(name).partitions(p.partitions()).replicas(p.replicationFactor()).build();
    }

    /** Readiness: the cluster answers. */
    @Bean("kafkaHealthIndicator")
    KafkaHealth kafkaHealth(KafkaAdmin admin) {
        return new KafkaHealth(admin.getConfigurationProperties());
    }

    @Bean
    DefaultErrorHandler kafkaErrorHandler(KafkaOperations<Object, Object> kafka, JobReporter reporter,
                                          UploadProcessor processor, WorkerProperties p, MeterRegistry registry) {
        var deadLetters = new DeadLetterPublishingRecoverer(kafka,
                (record, e) -> new TopicPartition(record.topic() + Topics.DEAD_LETTER_SUFFIX, record.partition()));
        // at zero from the start, so that dashboards and alerts see them before the first one
        for (String topic : List.of(Topics.UPLOADS, Topics.IMAGE_DELETIONS, Topics.INTEGRITY_CHECKS,
                Topics.JOB_CANCELLATIONS)) {
            registry.counter("kafka.retries", "topic", topic);
            registry.counter("kafka.dead.letters", "topic", topic);
        }
        var backOff = new ExponentialBackOff(p.retryInitial().toMillis(), 2.0);
        backOff.setMaxInterval(p.retryMaxInterval().toMillis());
        backOff.setMaxElapsedTime(p.retryFor().toMillis());
        var handler = new DefaultErrorHandler((record, e) -> {
            UploadAccepted upload = decode(record);
            if (upload != null) {
                if (e.getCause() instanceof UploadFailedException failed) {
                    processor.fail(UploadJob.of(upload), failed.code(), failed.getMessage());
                } else {
                    processor.fail(UploadJob.of(upload), FailureCode.STORAGE_UNAVAILABLE,
                            "Storing the upload kept failing; the retry budget is spent.");
                }
            }
            log.error("dead-lettering record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.getCause() == null ? e.toString() : e.getCause().toString());
            registry.counter("kafka.dead.letters", "topic", record.topic()).increment();
            deadLetters.accept(record, e);
        }, backOff);
        handler.addNotRetryableExceptions(NOT_RETRYABLE.toArray(Class[]::new));
        handler.setRetryListeners((record, e, attempt) -> {
            UploadAccepted upload = decode(record);
            registry.counter("kafka.retries", "topic", record.topic()).increment();
            String cause = e.getCause() == null ? e.getClass().getSimpleName() : e.getCause().getClass().getSimpleName();
            if (upload != null && isRetryable(e)) {
                long next = Math.min(p.retryMaxInterval().toMillis(),
                        p.retryInitial().toMillis() << Math.min(20, attempt - 1));
                log.warn("job {}: attempt {} failed ({}), retrying in {} ms", upload.getJobId(), attempt, cause, next);
                try {
                    reporter.retryScheduled(upload.getJobId(), upload.getImageId(), cause, next);
                } catch (RuntimeException reportFailed) {
                    log.warn("job {}: could not report the retry: {}", upload.getJobId(), reportFailed.toString());
                }
            } else if (upload == null) {
                // an image's deletion or integrity check, or a record that cannot be decoded: no job to report it
                // on, so the log says it
                log.warn("record {}-{}@{}: attempt {} failed ({})", record.topic(), record.partition(), record.offset(),
                        attempt, cause);
            }
        });
        return handler;
    }

    /** Failures that no retry can mend: dead-lettered on the first attempt. */
    private static final List<Class<? extends Exception>> NOT_RETRYABLE = List.of(
            InvalidProtocolBufferException.class, IllegalArgumentException.class, UploadFailedException.class);

    private static boolean isRetryable(Exception e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return NOT_RETRYABLE.stream().noneMatch(type -> type.isInstance(cause));
    }

    /** The upload a failed record asked for; null for records of other topics and undecodable ones. */
    private static UploadAccepted decode(ConsumerRecord<?, ?> record) {
        if (Topics.UPLOADS.equals(record.topic()) && record.value() instanceof byte[] bytes) {
            try {
                UploadAccepted upload = UploadAccepted.parseFrom(bytes);
                return upload.getJobId().isEmpty() ? null : upload;
            } catch (InvalidProtocolBufferException e) {
                return null;
            }
        }
        return null;
    }
}
