package org.patientimages.worker.upload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.time.Duration;

/**
 * What is derived from stored bytes. {@code thumbnailMaxPixels}: images with more pixels (width × height, as
 * their header declares) get no thumbnail; decoding stays subsampled below it, so this bounds time, not memory.
 * {@code pdfTimeLimit} and {@code pdfMemory}: the time and heap of a child JVM that reads a PDF (its page count,
 * its first page rendered); a PDF that needs more gets neither. {@code pdfIdle}: a child that has had no PDF for this
 * long is ended (one stays per thread reading PDFs at once, for the next).
 */
@ConfigurationProperties("patient-images.derivatives")
public record DerivativeProperties(@DefaultValue("100000000") long thumbnailMaxPixels,
                                   @DefaultValue("10s") Duration pdfTimeLimit,
                                   @DefaultValue("128MB") DataSize pdfMemory,
                                   @DefaultValue("60s") Duration pdfIdle) {
}
