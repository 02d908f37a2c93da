package org.patientimages.gateway.storage;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The gateway's S3 clients, built from {@code patient-images.storage.*} in one place. */
public final class StoreClients {

    private StoreClients() {
    }

    /**
     * A client of the object store. Integrity is our own SHA-256 of the bytes, checked against the one recorded at
     * upload, so the SDK adds no checksums of its own to requests and checks none of the answers'.
     */
    public static S3Client s3Client(DownloadLinks.StorageProperties storage) {
        var builder = S3Client.builder()
                .region(Region.of(storage.region()))
                .forcePathStyle(storage.pathStyle())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .credentialsProvider(credentials(storage));
        if (storage.endpoint() != null && !storage.endpoint().toString().isEmpty()) {
            builder.endpointOverride(storage.endpoint());
        }
        return builder.build();
    }

    /** The configured access key, or the AWS default credential chain when it is empty. */
    static AwsCredentialsProvider credentials(DownloadLinks.StorageProperties storage) {
        return storage.accessKey() == null || storage.accessKey().isEmpty()
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(storage.accessKey(), storage.secretKey()));
    }
}
