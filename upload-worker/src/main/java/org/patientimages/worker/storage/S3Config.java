package org.patientimages.worker.storage;

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

    @Bean(destroyMethod = "close")
    S3Client s3Client(StorageProperties p) {
        var builder = S3Client.builder()
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
