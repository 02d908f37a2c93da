package org.patientimages.worker.attributes;

import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifSubIFDDirectory;
import com.drew.metadata.heif.HeifDirectory;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads what can be searched from an image's bytes: width and height of raster images from their header
 * (ImageIO reads no pixels, so a file declaring 100000×100000 costs nothing), selected EXIF (capture
 * time, device) through metadata-extractor, of DICOM files the identifying UIDs, modality, study date,
 * body part and matrix size through {@link DicomFile}'s bounded walk (of PDFs, {@link PdfFile} reads the page count
 * and version). {@link Readings} is what calls these. No Spring, Kafka or S3 here.
 */
public final class Attributes {

    private static final Set<String> RASTER = Set.of("image/png", "image/jpeg", "image/tiff", "image/webp");
    private static final DateTimeFormatter EXIF_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private Attributes() {
    }

    /**
     * The width, height and EXIF of a raster image of the given (sniffed) content type; empty for other formats.
     *
     * @throws UnreadableFileException when the image's header cannot be read
     */
    static Map<String, Object> raster(Path file, String contentType) throws UnreadableFileException {
        Map<String, Object> attributes = new LinkedHashMap<>();
        if (!RASTER.contains(contentType)) {
            return attributes;
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers != null && readers.hasNext()) {
                ImageReader reader = readers.next();
                try {
                    reader.setInput(in, true, true);
                    attributes.put("width", reader.getWidth(0));
                    attributes.put("height", reader.getHeight(0));
                } finally {
                    reader.dispose();
                }
            }
        } catch (IOException | RuntimeException unreadable) {
            throw new UnreadableFileException("the image header could not be read");
        }
        attributes.putAll(exif(file));
        return attributes;
    }

    /**
     * The width, height and EXIF of a HEIF photo (HEIC, as phones take them): no Java library on Maven Central decodes
     * its pixels, but metadata-extractor reads its boxes. The size is the EXIF's pixel dimensions when it has them
     * (a phone's photo is a grid of tiles, whose first size property may be a tile's), else the file's own.
     *
     * @throws UnreadableFileException when the file's boxes cannot be read, or declare no size
     */
    static Map<String, Object> heif(Path file) throws UnreadableFileException {
        Metadata metadata;
        try {
            metadata = ImageMetadataReader.readMetadata(file.toFile());
        } catch (Exception unreadable) {
            throw new UnreadableFileException("the HEIF file could not be read");
        }
        Map<String, Object> attributes = new LinkedHashMap<>();
        ExifSubIFDDirectory sub = metadata.getFirstDirectoryOfType(ExifSubIFDDirectory.class);
        if (sub != null && sub.containsTag(ExifSubIFDDirectory.TAG_EXIF_IMAGE_WIDTH)
                && sub.containsTag(ExifSubIFDDirectory.TAG_EXIF_IMAGE_HEIGHT)) {
            attributes.put("width", sub.getInteger(ExifSubIFDDirectory.TAG_EXIF_IMAGE_WIDTH));
            attributes.put("height", sub.getInteger(ExifSubIFDDirectory.TAG_EXIF_IMAGE_HEIGHT));
        } else {
            // the boxes come as several HEIF directories: the size is in the one of the image's properties
            metadata.getDirectoriesOfType(HeifDirectory.class).stream()
                    .filter(heif -> heif.containsTag(HeifDirectory.TAG_IMAGE_WIDTH)
                            && heif.containsTag(HeifDirectory.TAG_IMAGE_HEIGHT))
                    .findFirst().ifPresent(heif -> {
                        attributes.put("width", heif.getInteger(HeifDirectory.TAG_IMAGE_WIDTH));
                        attributes.put("height", heif.getInteger(HeifDirectory.TAG_IMAGE_HEIGHT));
                    });
        }
        if (!attributes.containsKey("width")) {
            throw new UnreadableFileException("the HEIF file could not be read");
        }
        attributes.putAll(exif(metadata));
        return attributes;
    }

    /** The matrix size and the shown attributes of a DICOM file, as its walk found them. */
    static Map<String, Object> dicom(DicomFile file) {
        Map<String, Object> dicom = file.attributes();
        Map<String, Object> attributes = new LinkedHashMap<>();
        if (dicom.get("Columns") instanceof Integer columns && dicom.get("Rows") instanceof Integer rows) {
            attributes.put("width", columns);
            attributes.put("height", rows);
        }
        attributes.put("dicom", dicom);
        return attributes;
    }

    private static Map<String, Object> exif(Path file) {
        try {
            return exif(ImageMetadataReader.readMetadata(file.toFile()));
        } catch (Exception unreadable) {
            return Map.of(); // no EXIF, or none we can read: the image simply has none
        }
    }

    /** Capture time and device, of the EXIF that metadata-extractor found. */
    private static Map<String, Object> exif(Metadata metadata) {
        Map<String, Object> exif = new LinkedHashMap<>();
        try {
            ExifSubIFDDirectory sub = metadata.getFirstDirectoryOfType(ExifSubIFDDirectory.class);
            Date taken = sub == null ? null : sub.getDateOriginal();
            if (taken != null) {
                exif.put("captureTime", EXIF_TIME.format(taken.toInstant()));
            }
            ExifIFD0Directory ifd0 = metadata.getFirstDirectoryOfType(ExifIFD0Directory.class);
            if (ifd0 != null) {
                String device = String.join(" ", nonNull(ifd0.getString(ExifIFD0Directory.TAG_MAKE)),
                        nonNull(ifd0.getString(ExifIFD0Directory.TAG_MODEL))).strip();
                if (!device.isEmpty()) {
                    exif.put("device", device);
                }
            }
        } catch (RuntimeException unreadable) {
            // no EXIF, or none we can read: the image simply has none
        }
        return exif;
    }

    private static String nonNull(String s) {
        return s == null ? "" : s.strip();
    }
}
