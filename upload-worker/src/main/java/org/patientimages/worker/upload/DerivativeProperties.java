package org.patientimages.worker.upload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * What is derived from stored bytes. {@code thumbnailMaxPixels}: images with more pixels (width × height, as
 * their header declares) get no thumbnail; decoding stays subsampled below it, so this bounds time, not memory.
 * {@code pdfRenderTimeLimit}: a PDF whose first page takes longer to render gets no thumbnail.
 */
@ConfigurationProperties("patient-images.derivatives")
public record DerivativeProperties(@DefaultValue("100000000") long thumbnailMaxPixels,
                                   @DefaultValue("10s") Duration pdfRenderTimeLimit) {
}
