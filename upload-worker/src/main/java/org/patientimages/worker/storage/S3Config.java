package org.patientimages.worker.storage;

import java.time.Duration;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

@Configuration
class S3Config {

    /** Readiness: the bucket answers. */
    @Bean("objectStoreHealthIndicator")
    HealthIndicator objectStoreHealth(S3Client s3, StorageProperties p) {
        return () -> {
            try {
                // bounded: a store that hangs is as unready as one that refuses
                s3.headBucket(b -> b.bucket(p.bucket()).overrideConfiguration(o -> o.apiCallTimeout(Duration.ofSeconds(2))));
                return Health.up().withDetail("bucket", p.bucket()).build();
            } catch (RuntimeException e) {
                return Health.down().withDetail("reason", "object store unavailable").build();
            }
        };
    }

    @Bean(destroyMethod = "close")
    S3Client s3Client(StorageProperties p, MeterRegistry registry) {
        var builder = S3Client.builder()
                .overrideConfiguration(o -> o.addExecutionInterceptor(new S3Metrics(registry)))
                .region(Region.of(p.region()))
                .forcePathStyle(p.pathStyle())
                // integrity is checked with our own SHA-256, not the SDK's aws-chunked trailer
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .httpClientBuilder(Apache5HttpClient.builder().maxConnections(64));
        if (p.endpoint() != null && !p.endpoint().toString().isEmpty()) {
            builder.endpointOverride(p.endpoint());
        }
        if (p.accessKey() != null && !p.accessKey().isEmpty()) {
            builder.credentialsProvider(StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(p.accessKey(), p.secretKey())));
        } else {
            builder.credentialsProvider(DefaultCredentialsProvider.builder().build());
        }
        return builder.build();
    }
}
