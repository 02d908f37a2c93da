package org.patientimages.worker.upload;

import io.micrometer.core.instrument.MeterRegistry;
import org.patientimages.worker.attributes.PdfFile;
import org.patientimages.worker.attributes.Readings;
import org.patientimages.worker.attributes.Step;
import org.patientimages.worker.attributes.ThumbnailRenderer;
import org.patientimages.worker.storage.ObjectStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * What is read and rendered from an image's bytes, in one reading of the file ({@link Readings}): its attributes, then
 * its thumbnail, stored beside the image. Used when an upload is stored and when an admin asks for an image to be
 * derived again (an image stored before the workers could read its format). A file that breaks its format fails only
 * the step, with its reason; the image stays available without what the step would have made. A store that is down
 * fails the call, to be retried: the thumbnail is not given up for it. Metric
 * {@code upload.derivatives{step, outcome, content_type}}.
 */
@Component
public class Derivatives implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Derivatives.class);

    /** Where each step's outcome goes. */
    public interface Sink {
        void attributes(Map<String, Object> attributes);

        /** After the attributes' outcome, before the thumbnail is stored. */
        default void attributesDone() {
        }

        void thumbnail(String key, int width, int height);

        /** @param step {@code ATTRIBUTES} or {@code THUMBNAIL} */
        void skipped(String step, String reason);
    }

    private final ObjectStore store;
    private final MeterRegistry registry;
    private final PdfFile pdfs;
    private final Readings readings;

    Derivatives(DerivativeProperties properties, ObjectStore store, MeterRegistry registry) {
        this.store = store;
        this.registry = registry;
        this.pdfs = new PdfFile(properties.pdfTimeLimit(), properties.pdfMemory().toBytes(), properties.pdfIdle());
        this.readings = new Readings(properties.thumbnailMaxPixels(), pdfs);
    }

    /** Ends the PDF children. */
    @Override
    public void close() {
        pdfs.close();
    }

    /** Whether anything is read from a file of this (sniffed) content type; nothing needs the bytes otherwise. */
    public static boolean reads(String contentType) {
        return Readings.reads(contentType);
    }

    /** Where an image's thumbnail is stored; under the image's prefix, so deleting the image removes it too. */
    public static String thumbnailKey(String imageId) {
        return "images/" + imageId + "/thumbnail.png";
    }

    /**
     * Reads the file's attributes (nothing reported when its format has none) and renders its thumbnail, stored under
     * the image's {@link #thumbnailKey}.
     */
    public void derive(Path file, String contentType, String imageId, Sink sink) {
        Readings.Reading reading = readings.read(file, contentType);
        Step<Map<String, Object>> attributes = reading.attributes();
        if (!skipped(attributes, "ATTRIBUTES", contentType, imageId, sink) && !attributes.value().isEmpty()) {
            sink.attributes(attributes.value());
            counted("attributes", "done", contentType);
        }
        sink.attributesDone();
        Step<ThumbnailRenderer.Thumbnail> thumbnail = reading.thumbnail();
        if (skipped(thumbnail, "THUMBNAIL", contentType, imageId, sink)) {
            return;
        }
        String key = thumbnailKey(imageId);
        store.putBytes(key, thumbnail.value().png(), "image/png");
        sink.thumbnail(key, thumbnail.value().width(), thumbnail.value().height());
        counted("thumbnail", "done", contentType);
    }

    /** Reports a step skipped, with its reason; a library's unexpected failure is logged by its class. */
    private boolean skipped(Step<?> step, String name, String contentType, String imageId, Sink sink) {
        if (step.skipped() == null) {
            return false;
        }
        if (step.skipped().getCause() != null) {
            log.warn("image {}: {} failed ({})", imageId, name.toLowerCase(Locale.ROOT),
                    step.skipped().getCause().getClass().getSimpleName());
        }
        sink.skipped(name, step.skipped().getMessage());
        counted(name.toLowerCase(Locale.ROOT), "skipped", contentType);
        return true;
    }

    /** A step's outcome by the file's (sniffed, so allow-listed) content type. */
    private void counted(String step, String outcome, String contentType) {
        registry.counter("upload.derivatives", "step", step, "outcome", outcome, "content_type", contentType)
                .increment();
    }
}
