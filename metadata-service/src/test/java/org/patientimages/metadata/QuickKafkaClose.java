package org.patientimages.metadata;

import org.springframework.boot.kafka.autoconfigure.DefaultKafkaProducerFactoryCustomizer;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * The tests' application contexts close their Kafka producer within a second. They are closed when the test JVM
 * exits, when the outbox relay may just have sent to a broker that is stopping too; the producer's close then
 * waited its default 30 seconds for answers that never came, and held the JVM's exit that long (a thread dump
 * showed it). What the relay had sent unanswered stays in the outbox, as it would in the service.
 */
@TestConfiguration(proxyBeanMethods = false)
class QuickKafkaClose {

    @Bean
    DefaultKafkaProducerFactoryCustomizer quickProducerClose() {
        return factory -> factory.setPhysicalCloseTimeout(1);
    }
}
