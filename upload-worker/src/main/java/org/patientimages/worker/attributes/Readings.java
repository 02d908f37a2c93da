package org.patientimages.worker.attributes;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Reads a file once for both of what is derived from it: its attributes ({@link Attributes}) and its thumbnail
 * ({@link ThumbnailRenderer}). A DICOM file is walked once for both, a PDF read once by one child JVM
 * ({@link PdfFile}), and a raster image's header is read for its attributes before it is decoded for its thumbnail.
 * Each step fails alone, with its reason: a file that breaks its format costs what the step would have made, never
 * the other step. Pure: no Spring, Kafka or S3 here.
 */
public final class Readings {

    private static final Set<String> RASTER =
            Set.of("image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp", "image/webp");
    /** Phones' photos: their attributes are read, their pixels not (see {@link Attributes#heif}). */
    private static final Set<String> HEIF = Set.of("image/heic", "image/heif");
    private static final String DICOM = "application/dicom";
    private static final String PDF = "application/pdf";
    private static final String NOT_RENDERED = "the image could not be rendered";
    private static final String NOT_READ = "the file could not be read";

    /** What a reading made: its attributes (empty for formats without any) and its thumbnail, or why not. */
    public record Reading(Step<Map<String, Object>> attributes, Step<ThumbnailRenderer.Thumbnail> thumbnail) {
    }

    private final PdfFile pdfs;
    private final ThumbnailRenderer thumbnails;

    /**
     * @param maxPixels the largest image (width × height) whose thumbnail is rendered at all
     * @param pdfs      what reads PDFs
     */
    public Readings(long maxPixels, PdfFile pdfs) {
        this.pdfs = pdfs;
        this.thumbnails = new ThumbnailRenderer(maxPixels);
    }

    /** Whether anything is read from a file of this (sniffed) content type; nothing needs the bytes otherwise. */
    public static boolean reads(String contentType) {
        return RASTER.contains(contentType) || HEIF.contains(contentType) || DICOM.equals(contentType)
                || PDF.equals(contentType);
    }

    /** The file's attributes and thumbnail, read as the (sniffed) content type says. */
    public Reading read(Path file, String contentType) {
        if (DICOM.equals(contentType)) {
            Step<DicomFile> dicom = Step.of(() -> dicom(file), NOT_READ);
            return new Reading(dicom.then(Attributes::dicom, NOT_READ),
                    dicom.then(read -> thumbnails.scaled(thumbnails.dicom(file, read)), NOT_RENDERED));
        }
        if (PDF.equals(contentType)) {
            PdfFile.Read read = pdfs.read(file);
            return new Reading(read.attributes(), read.page().then(thumbnails::scaled, NOT_RENDERED));
        }
        if (HEIF.contains(contentType)) {
            return new Reading(Step.of(() -> Attributes.heif(file), NOT_READ), Step.skipped(new UnreadableFileException(
                    "no thumbnail is rendered for HEIF photos: no Java library on Maven Central decodes them")));
        }
        if (RASTER.contains(contentType)) {
            return new Reading(Step.of(() -> Attributes.raster(file, contentType), NOT_READ),
                    Step.of(() -> thumbnails.scaled(thumbnails.raster(file)), NOT_RENDERED));
        }
        return new Reading(Step.done(Map.of()),
                Step.skipped(new UnreadableFileException("no thumbnail is rendered for " + contentType)));
    }

    private static DicomFile dicom(Path file) throws UnreadableFileException {
        try {
            return DicomFile.read(file);
        } catch (IOException e) {
            throw new UnreadableFileException("the DICOM file is malformed: " + e.getMessage());
        }
    }
}
