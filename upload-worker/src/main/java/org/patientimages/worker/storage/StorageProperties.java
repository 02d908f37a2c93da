package org.patientimages.worker.storage;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.net.URI;

/**
 * Where objects go. {@code endpoint} empty means AWS S3 itself (region and the default credential chain);
 * the defaults match the local dev stack.
 */
@ConfigurationProperties("patient-images.storage")
public record StorageProperties(@DefaultValue("http://127.0.0.1:9000") URI endpoint,
                                @DefaultValue("us-east-1") String region,
                                @DefaultValue("minioadmin") String accessKey,
                                @DefaultValue("minioadmin") String secretKey,
                                @DefaultValue("patient-images") String bucket,
                                @DefaultValue("true") boolean pathStyle,
                                @DefaultValue("100MB") DataSize multipartThreshold,
                                @DefaultValue("16MB") DataSize partSize) {
}
