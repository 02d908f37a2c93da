package org.patientimages.worker.upload;

import io.micrometer.core.instrument.MeterRegistry;
import org.patientimages.worker.attributes.Attributes;
import org.patientimages.worker.attributes.PdfFile;
import org.patientimages.worker.attributes.ThumbnailRenderer;
import org.patientimages.worker.attributes.UnreadableFileException;
import org.patientimages.worker.storage.ObjectStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import java.nio.file.Path;
import java.util.Map;

/**
 * What is read and rendered from an image's bytes: its attributes, then its thumbnail, stored beside the image.
 * Used when an upload is stored and when an admin asks for an image to be derived again (an image stored before
 * the workers could read its format). A file that breaks its format fails only the step, with its reason; the
 * image stays available without what the step would have made. A store that is down fails the call, to be
 * retried: the thumbnail is not given up for it. Metric {@code upload.derivatives{step, outcome, content_type}}.
 */
@Component
public class Derivatives implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Derivatives.class);

    /** Where each step's outcome goes. */
    public interface Sink {
        void attributes(Map<String, Object> attributes);

        void thumbnail(String key, int width, int height);

        /** @param step {@code ATTRIBUTES} or {@code THUMBNAIL} */
        void skipped(String step, String reason);
    }

    private final ObjectStore store;
    private final MeterRegistry registry;
    private final PdfFile pdfs;
    private final ThumbnailRenderer thumbnails;

    Derivatives(DerivativeProperties properties, ObjectStore store, MeterRegistry registry) {
        this.store = store;
        this.registry = registry;
        this.pdfs = new PdfFile(properties.pdfTimeLimit(), properties.pdfMemory().toBytes(), properties.pdfIdle());
        this.thumbnails = new ThumbnailRenderer(properties.thumbnailMaxPixels(), pdfs);
    }

    /** Ends the PDF children. */
    @Override
    public void close() {
        pdfs.close();
    }

    /** Whether anything is read from a file of this (sniffed) content type; nothing needs the bytes otherwise. */
    public static boolean reads(String contentType) {
        return ThumbnailRenderer.renders(contentType);
    }

    /** Where an image's thumbnail is stored; under the image's prefix, so deleting the image removes it too. */
    public static String thumbnailKey(String imageId) {
        return "images/" + imageId + "/thumbnail.png";
    }

    /** Reads the file's attributes (nothing reported when its format has none). */
    public void attributes(Path file, String contentType, Sink sink) {
        try {
            Map<String, Object> attributes = Attributes.of(file, contentType, pdfs);
            if (!attributes.isEmpty()) {
                sink.attributes(attributes);
                counted("attributes", "done", contentType);
            }
        } catch (UnreadableFileException e) {
            sink.skipped("ATTRIBUTES", e.getMessage());
            counted("attributes", "skipped", contentType);
        }
    }

    /** Renders the file's thumbnail and stores it under the image's {@link #thumbnailKey}. */
    public void thumbnail(Path file, String contentType, String imageId, Sink sink) {
        ThumbnailRenderer.Thumbnail thumbnail;
        try {
            thumbnail = thumbnails.render(file, contentType);
        } catch (UnreadableFileException e) {
            sink.skipped("THUMBNAIL", e.getMessage());
            counted("thumbnail", "skipped", contentType);
            return;
        } catch (RuntimeException e) {
            log.warn("image {}: rendering the thumbnail failed ({})", imageId, e.getClass().getSimpleName());
            sink.skipped("THUMBNAIL", "the image could not be rendered");
            counted("thumbnail", "skipped", contentType);
            return;
        }
        String key = thumbnailKey(imageId);
        store.putBytes(key, thumbnail.png(), "image/png");
        sink.thumbnail(key, thumbnail.width(), thumbnail.height());
        counted("thumbnail", "done", contentType);
    }

    /** A step's outcome by the file's (sniffed, so allow-listed) content type. */
    private void counted(String step, String outcome, String contentType) {
        registry.counter("upload.derivatives", "step", step, "outcome", outcome, "content_type", contentType)
                .increment();
    }
}
