package org.patientimages.worker.storage;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.net.URI;

/**
 * Where objects go. {@code endpoint} empty means AWS S3 itself (region and the default credential chain);
 * the defaults match the local dev stack. {@code parallelParts}: how many parts of multipart uploads the worker
 * sends at a time, across its jobs; each is held in memory while it is sent ({@code parallelParts × partSize}).
 * {@code checksumByStore}: a file sent in one request carries its accepted SHA-256 for the store to check
 * ({@code x-amz-checksum-sha256}); false for a store that refuses the header.
 */
@ConfigurationProperties("patient-images.storage")
public record StorageProperties(@DefaultValue("http://127.0.0.1:9000") URI endpoint,
                                @DefaultValue("us-east-1") String region,
                                @DefaultValue("minioadmin") String accessKey,
                                @DefaultValue("minioadmin") String secretKey,
                                @DefaultValue("patient-images") String bucket,
                                @DefaultValue("true") boolean pathStyle,
                                @DefaultValue("100MB") DataSize multipartThreshold,
                                @DefaultValue("16MB") DataSize partSize,
                                @DefaultValue("4") int parallelParts,
                                @DefaultValue("true") boolean checksumByStore) {
}
