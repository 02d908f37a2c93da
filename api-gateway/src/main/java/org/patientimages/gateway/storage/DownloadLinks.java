package org.patientimages.gateway.storage;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

import java.net.URI;
import java.time.Duration;

/**
 * Presigned GET URLs: short-lived, scoped to one object and one method, served as an attachment of the
 * object's real content type. Signing happens locally; no call to the store is made.
 */
@Component
public class DownloadLinks implements AutoCloseable {

    @ConfigurationProperties("patient-images.storage")
    public record StorageProperties(@DefaultValue("http://127.0.0.1:9000") URI endpoint,
                                    @DefaultValue("us-east-1") String region,
                                    @DefaultValue("minioadmin") String accessKey,
                                    @DefaultValue("minioadmin") String secretKey,
                                    @DefaultValue("true") boolean pathStyle,
                                    @DefaultValue("10m") Duration downloadExpiry,
                                    @DefaultValue("patient-images") String bucket) {
    }

    private final S3Presigner presigner;
    private final Duration expiry;

    DownloadLinks(StorageProperties p) {
        if (p.downloadExpiry().isNegative() || p.downloadExpiry().isZero()
                || p.downloadExpiry().compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("patient-images.storage.download-expiry must be more than 0 and at most 1h,"
                    + " not " + p.downloadExpiry());
        }
        var builder = S3Presigner.builder()
                .region(Region.of(p.region()))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(p.pathStyle()).build());
        if (p.endpoint() != null && !p.endpoint().toString().isEmpty()) {
            builder.endpointOverride(p.endpoint());
        }
        builder.credentialsProvider(StoreClients.credentials(p));
        this.presigner = builder.build();
        this.expiry = p.downloadExpiry();
    }

    /** A URL that downloads the object as an attachment of the given type. */
    public String presign(String bucket, String key, String contentType) {
        return presign(bucket, key, contentType, "attachment");
    }

    /** A URL that serves the object for display (thumbnails in an {@code <img>}). */
    public String presignInline(String bucket, String key, String contentType) {
        return presign(bucket, key, contentType, "inline");
    }

    private String presign(String bucket, String key, String contentType, String disposition) {
        return presigner.presignGetObject(r -> r.signatureDuration(expiry).getObjectRequest(g -> g
                        .bucket(bucket).key(key)
                        .responseContentDisposition(disposition)
                        .responseContentType(contentType)))
                .url().toString();
    }

    @Override
    public void close() {
        presigner.close();
    }
}
