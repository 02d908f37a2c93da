package org.patientimages.metadata;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * Owns PostgreSQL: patients, images, tags, jobs and job events. Records every job transition it reads from
 * Kafka and serves the gateway's reads over an internal HTTP API bound to loopback.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class MetadataServiceApplication {

    public static void main(String[] args) {
        SpringApplication.run(MetadataServiceApplication.class, args);
    }
}
