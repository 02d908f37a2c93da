package org.patientimages.worker.attributes;

import com.drew.imaging.ImageMetadataReader;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifSubIFDDirectory;

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
        Map<String, Object> exif = new LinkedHashMap<>();
        try {
            Metadata metadata = ImageMetadataReader.readMetadata(file.toFile());
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
        } catch (Exception unreadable) {
            // no EXIF, or none we can read: the image simply has none
        }
        return exif;
    }

    private static String nonNull(String s) {
        return s == null ? "" : s.strip();
    }
}
