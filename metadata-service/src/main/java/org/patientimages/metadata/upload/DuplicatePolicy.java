package org.patientimages.metadata.upload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * What happens to an upload whose bytes (SHA-256 and size) equal an image the same patient already has.
 * {@code STORE} (default): stored as a new image with {@code duplicateOf} naming the earlier one.
 * {@code SKIP}: nothing is stored; the job succeeds at once with the earlier image as its result, provided
 * that image is AVAILABLE (while the earlier one is still in flight the upload is stored, flagged).
 */
@ConfigurationProperties("patient-images.duplicates")
public record DuplicatePolicy(@DefaultValue("STORE") Mode policy) {

    public enum Mode { STORE, SKIP }
}
