package org.patientimages.worker.upload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * What is derived from stored bytes. {@code thumbnailMaxPixels}: images with more pixels (width × height, as
 * their header declares) get no thumbnail; decoding stays subsampled below it, so this bounds time, not memory.
 */
@ConfigurationProperties("patient-images.derivatives")
public record DerivativeProperties(@DefaultValue("100000000") long thumbnailMaxPixels) {
}
