package org.patientimages.gateway.image;

import io.micrometer.core.instrument.MeterRegistry;
import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.storage.DownloadLinks;
import org.patientimages.gateway.storage.StoreClients;
import org.patientimages.gateway.upload.FileNames;
import org.patientimages.gateway.web.ApiProblem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A patient's images as one ZIP, streamed from the object store to the client as it is read: what a viewer or a
 * colleague imports, or a study burnt to a disc. DICOM files are laid out by study and series
 * ({@code <StudyInstanceUID>/<SeriesInstanceUID>/<imageId>.dcm}), other files as {@code <imageId>-<file name>};
 * a last entry {@code SHA256SUMS} lists every entry's SHA-256 ({@code sha256sum -c SHA256SUMS}). Each object's
 * bytes are hashed on their way through and compared with the SHA-256 recorded at upload: bytes that differ (or an
 * object gone) end the download unfinished, so that no damaged image is ever handed out in a complete archive.
 * Memory stays flat: one buffer, whatever the sizes.
 */
@Component
class ImageArchive implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ImageArchive.class);
    private static final Pattern UID = Pattern.compile("[0-9.]{1,64}");
    private static final Set<String> PAGING = Set.of("limit", "cursor");
    private static final int PAGE = 500;

    /**
     * @param maxImages        an archive of more images is refused (narrow it with the search's filters)
     * @param compressionLevel 0 (none: images are mostly compressed already, and the gateway's CPU stays with
     *                         uploads) to 9; uncompressed DICOM shrinks by about half at 1
     */
    @ConfigurationProperties("patient-images.archive")
    record ArchiveProperties(@DefaultValue("10000") int maxImages, @DefaultValue("0") int compressionLevel) {
    }

    /** One image in the archive: where its bytes are, what they must hash to, and its entry's name. */
    record Item(String imageId, String bucket, String objectKey, long sizeBytes, String sha256, String entryName,
                Instant uploadedAt) {

        static Item of(JsonNode image) {
            return new Item(image.path("imageId").asString(), image.path("bucket").asString(),
                    image.path("objectKey").asString(), image.path("sizeBytes").asLong(),
                    image.path("sha256").asString(), ImageArchive.entryName(image), Instant.parse(image.path("uploadedAt").asString()));
        }
    }

    /** Where the bytes come from: the object store, or a test's map. */
    interface Objects {
        InputStream open(Item item) throws IOException;
    }

    /** An object whose bytes are not the ones uploaded, or that is gone. */
    static final class Damaged extends IOException {
        final String imageId;

        Damaged(String imageId, String what) {
            super("image " + imageId + ": " + what);
            this.imageId = imageId;
        }
    }

    private final MetadataClient metadata;
    private final S3Client s3;
    private final ArchiveProperties properties;
    private final MeterRegistry registry;

    ImageArchive(MetadataClient metadata, DownloadLinks.StorageProperties storage, ArchiveProperties properties,
                 MeterRegistry registry) {
        if (properties.compressionLevel() < 0 || properties.compressionLevel() > 9) {
            throw new IllegalArgumentException("patient-images.archive.compression-level must be 0 to 9, not "
                    + properties.compressionLevel());
        }
        this.metadata = metadata;
        this.s3 = StoreClients.s3Client(storage);
        this.properties = properties;
        this.registry = registry;
    }

    /**
     * The patient's available images that pass the search's filters, in its order; 400 for more than
     * {@code max-images}, or for paging parameters (the archive is all of them).
     */
    List<Item> items(String patientId, MultiValueMap<String, String> query) {
        for (String name : query.keySet()) {
            if (PAGING.contains(name)) {
                throw new ApiProblem(HttpStatus.BAD_REQUEST, "INVALID_PARAMETER",
                        "An archive holds every image that passes the filters; '" + name + "' does not apply.", false);
            }
        }
        String status = query.getFirst("status");
        if (status != null && !status.equals("AVAILABLE")) {
            throw new ApiProblem(HttpStatus.BAD_REQUEST, "INVALID_PARAMETER",
                    "An archive holds available images only; status must be AVAILABLE or absent.", false);
        }
        MultiValueMap<String, String> search = new LinkedMultiValueMap<>(query);
        search.set("status", "AVAILABLE");
        search.set("limit", Integer.toString(PAGE));
        List<Item> items = new ArrayList<>();
        String cursor = null;
        do {
            if (cursor != null) {
                search.set("cursor", cursor);
            }
            JsonNode page = metadata.page("/internal/v1/patients/{id}/images", search, patientId);
            page.path("items").forEach(image -> items.add(Item.of(image)));
            if (items.size() > properties.maxImages()) {
                throw new ApiProblem(HttpStatus.BAD_REQUEST, "TOO_MANY_IMAGES", "More than "
                        + properties.maxImages() + " images pass these filters; narrow them (a study, a tag, dates).",
                        false);
            }
            cursor = page.path("nextCursor").isString() ? page.path("nextCursor").asString() : null;
        } while (cursor != null);
        return items;
    }

    /**
     * Streams the archive of the items to {@code out}. {@code beforeFirstByte} runs once the first object could be
     * opened, before anything is written (set the answer's headers there): a store that cannot be read at all is
     * then still a {@code 503}. A failure after that ends the archive unfinished (no end of the entry, no
     * {@code SHA256SUMS}, no central directory) and is thrown.
     */
    void write(List<Item> items, OutputStream out, Runnable beforeFirstByte) throws IOException {
        try {
            write(items, this::open, out, properties.compressionLevel(), beforeFirstByte);
            registry.counter("image.archives", "outcome", "complete").increment();
        } catch (Damaged e) {
            registry.counter("image.archives", "outcome", "damaged").increment();
            log.error("archive stopped: the stored bytes of image {} are not the ones uploaded, or are gone"
                    + " (ask for its integrity check)", e.imageId);
            throw e;
        } catch (IOException | RuntimeException e) {
            registry.counter("image.archives", "outcome", "failed").increment();
            throw e;
        }
    }

    /** The archive, from any source of bytes; package-private for tests. */
    static void write(List<Item> items, Objects objects, OutputStream out, int level, Runnable beforeFirstByte)
            throws IOException {
        byte[] buffer = new byte[64 * 1024];
        StringBuilder sums = new StringBuilder();
        ZipOutputStream zip = null;
        for (Item item : items) {
            try (InputStream in = objects.open(item)) {
                if (zip == null) {
                    beforeFirstByte.run();
                    zip = zip(out, level);
                }
                ZipEntry entry = new ZipEntry(item.entryName());
                entry.setTime(item.uploadedAt().toEpochMilli());
                zip.putNextEntry(entry);
                MessageDigest sha256 = sha256();
                long size = 0;
                for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
                    sha256.update(buffer, 0, n);
                    zip.write(buffer, 0, n);
                    size += n;
                }
                if (size != item.sizeBytes() || !HexFormat.of().formatHex(sha256.digest()).equals(item.sha256())) {
                    throw new Damaged(item.imageId(), "size or SHA-256 differ from the ones recorded at upload");
                }
                zip.closeEntry();
            }
            sums.append(item.sha256()).append("  ").append(item.entryName()).append('\n');
        }
        if (zip == null) {
            beforeFirstByte.run();
            zip = zip(out, level);
        }
        zip.putNextEntry(new ZipEntry("SHA256SUMS"));
        zip.write(sums.toString().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
        zip.finish();
        zip.flush();
    }

    private static ZipOutputStream zip(OutputStream out, int level) {
        ZipOutputStream zip = new ZipOutputStream(out, StandardCharsets.UTF_8);
        zip.setLevel(level);
        return zip;
    }

    private InputStream open(Item item) throws IOException {
        try {
            return s3.getObject(b -> b.bucket(item.bucket()).key(item.objectKey()));
        } catch (NoSuchKeyException e) {
            throw new Damaged(item.imageId(), "its object is gone");
        } catch (SdkException e) {
            throw new IOException("the object store could not be read", e);
        }
    }

    /**
     * A DICOM file under its study and series (UIDs of digits and dots only: anything else in a file's header is
     * never a path), another file as its id and its sanitised name: every name unique, none a path outside the
     * archive.
     */
    static String entryName(JsonNode image) {
        String id = image.path("imageId").asString();
        JsonNode dicom = image.path("attributes").path("dicom");
        if (dicom.isObject() && dicom.has("StudyInstanceUID")) {
            return uid(dicom.path("StudyInstanceUID")) + "/" + uid(dicom.path("SeriesInstanceUID")) + "/" + id + ".dcm";
        }
        String name = image.path("originalFilename").isString()
                ? FileNames.sanitise(image.path("originalFilename").asString()) : null;
        return name == null ? id : id + "-" + name;
    }

    private static String uid(JsonNode value) {
        String uid = value.isString() ? value.asString() : "";
        return UID.matcher(uid).matches() && !uid.startsWith(".") ? uid : "unknown";
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        s3.close();
    }
}
