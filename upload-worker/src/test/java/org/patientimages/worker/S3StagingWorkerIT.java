package org.patientimages.worker;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Every scenario of {@link UploadWorkerIT} again, with the staging area in a bucket (the gateway's
 * {@code patient-images.staging.mode=s3}): objects are checked by reading them through and copied into place
 * server-side, and a staged object replaced by other bytes is still caught.
 */
class S3StagingWorkerIT extends UploadWorkerIT {

    static final String STAGING_BUCKET = "patient-images-staging";

    static {
        s3.createBucket(STAGING_BUCKET);
    }

    @DynamicPropertySource
    static void s3Staging(DynamicPropertyRegistry registry) {
        registry.add("patient-images.staging.mode", () -> "s3");
        registry.add("patient-images.staging.bucket", () -> STAGING_BUCKET);
    }

    @Override
    void putStaged(String key, byte[] content) {
        client.putObject(b -> b.bucket(STAGING_BUCKET).key(key), RequestBody.fromBytes(content));
    }

    @Override
    byte[] staged(String key) {
        return client.getObject(b -> b.bucket(STAGING_BUCKET).key(key), ResponseTransformer.toBytes()).asByteArray();
    }

    @Override
    boolean isStaged(String key) {
        try {
            client.headObject(b -> b.bucket(STAGING_BUCKET).key(key));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        }
    }
}
