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
    private static final String UNKNOWN = "unknown";
    private static final Set<String> PAGING = Set.of("limit", "cursor");
    private static final int PAGE = 500;
    private static final byte[] CRLF = {'\r', '\n'};

    /**
     * @param maxImages        an archive of more images is refused (narrow it with the search's filters)
     * @param compressionLevel 0 (none: images are mostly compressed already, and the gateway's CPU stays with
     *                         uploads) to 9; uncompressed DICOM shrinks by about half at 1
     */
    @ConfigurationProperties("patient-images.archive")
    record ArchiveProperties(@DefaultValue("10000") int maxImages, @DefaultValue("0") int compressionLevel) {
    }

    /**
     * One image in the archive: where its bytes are, what they must hash to, its entry's name, and a DICOM file's
     * transfer syntax (null for other files, or one that is not a UID: the file's header is the uploader's).
     */
    record Item(String imageId, String bucket, String objectKey, long sizeBytes, String sha256, String entryName,
                Instant uploadedAt, String transferSyntax) {

        static Item of(JsonNode image) {
            String syntax = uid(image.path("attributes").path("dicom").path("TransferSyntaxUID"));
            return new Item(image.path("imageId").asString(), image.path("bucket").asString(),
                    image.path("objectKey").asString(), image.path("sizeBytes").asLong(),
                    image.path("sha256").asString(), ImageArchive.entryName(image),
                    Instant.parse(image.path("uploadedAt").asString()), syntax.equals(UNKNOWN) ? null : syntax);
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
        return images(patientId, query).stream().map(Item::of).toList();
    }

    /** The images of {@link #items} as the metadata-service records them; across patients for a null patient. */
    List<JsonNode> images(String patientId, MultiValueMap<String, String> query) {
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
        List<JsonNode> images = new ArrayList<>();
        String cursor = null;
        do {
            if (cursor != null) {
                search.set("cursor", cursor);
            }
            JsonNode page = patientId == null ? metadata.page("/internal/v1/images", search)
                    : metadata.page("/internal/v1/patients/{id}/images", search, patientId);
            page.path("items").forEach(images::add);
            if (images.size() > properties.maxImages()) {
                throw new ApiProblem(HttpStatus.BAD_REQUEST, "TOO_MANY_IMAGES", "More than "
                        + properties.maxImages() + " images pass these filters; narrow them (a study, a tag, dates).",
                        false);
            }
            cursor = page.path("nextCursor").isString() ? page.path("nextCursor").asString() : null;
        } while (cursor != null);
        return images;
    }

    /**
     * Streams the archive of the items to {@code out}. {@code beforeFirstByte} runs once the first object could be
     * opened, before anything is written (set the answer's headers there): a store that cannot be read at all is
     * then still a {@code 503}. A failure after that ends the archive unfinished (no end of the entry, no
     * {@code SHA256SUMS}, no central directory) and is thrown.
     */
    void write(List<Item> items, OutputStream out, Runnable beforeFirstByte) throws IOException {
        counted(items, new ZipEntries(out, properties.compressionLevel()), beforeFirstByte);
    }

    /**
     * Streams the items as the parts of a {@code multipart/related} body with this {@code boundary} (a DICOMweb
     * retrieval), each checked as an archive's entries are; a failure after the first byte ends the body without its
     * closing delimiter.
     */
    void writeParts(List<Item> items, OutputStream out, String boundary, Runnable beforeFirstByte) throws IOException {
        counted(items, new RelatedParts(out, boundary), beforeFirstByte);
    }

    private void counted(List<Item> items, Layout layout, Runnable beforeFirstByte) throws IOException {
        try {
            write(items, this::open, layout, beforeFirstByte);
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

    /** The ZIP archive, from any source of bytes; package-private for tests. */
    static void write(List<Item> items, Objects objects, OutputStream out, int level, Runnable beforeFirstByte)
            throws IOException {
        write(items, objects, new ZipEntries(out, level), beforeFirstByte);
    }

    /** How the objects are laid out in the answer: a ZIP's entries, or a multipart body's parts. */
    interface Layout {
        void begin(Item item) throws IOException;

        void write(byte[] bytes, int length) throws IOException;

        void end(Item item) throws IOException;

        void finish() throws IOException;
    }

    /** Each object's bytes through the layout, hashed on their way and compared with the SHA-256 recorded. */
    static void write(List<Item> items, Objects objects, Layout layout, Runnable beforeFirstByte) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        boolean started = false;
        for (Item item : items) {
            try (InputStream in = objects.open(item)) {
                if (!started) {
                    beforeFirstByte.run();
                    started = true;
                }
                layout.begin(item);
                MessageDigest sha256 = sha256();
                long size = 0;
                for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
                    sha256.update(buffer, 0, n);
                    layout.write(buffer, n);
                    size += n;
                }
                if (size != item.sizeBytes() || !HexFormat.of().formatHex(sha256.digest()).equals(item.sha256())) {
                    throw new Damaged(item.imageId(), "size or SHA-256 differ from the ones recorded at upload");
                }
                layout.end(item);
            }
        }
        if (!started) {
            beforeFirstByte.run();
        }
        layout.finish();
    }

    /** A ZIP entry per object, then {@code SHA256SUMS}. */
    private static final class ZipEntries implements Layout {
        private final ZipOutputStream zip;
        private final StringBuilder sums = new StringBuilder();

        ZipEntries(OutputStream out, int level) {
            this.zip = new ZipOutputStream(out, StandardCharsets.UTF_8);
            zip.setLevel(level);
        }

        @Override
        public void begin(Item item) throws IOException {
            ZipEntry entry = new ZipEntry(item.entryName());
            entry.setTime(item.uploadedAt().toEpochMilli());
            zip.putNextEntry(entry);
        }

        @Override
        public void write(byte[] bytes, int length) throws IOException {
            zip.write(bytes, 0, length);
        }

        @Override
        public void end(Item item) throws IOException {
            zip.closeEntry();
            sums.append(item.sha256()).append("  ").append(item.entryName()).append('\n');
        }

        @Override
        public void finish() throws IOException {
            zip.putNextEntry(new ZipEntry("SHA256SUMS"));
            zip.write(sums.toString().getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.finish();
            zip.flush();
        }
    }

    /** A part per object, {@code application/dicom} with its transfer syntax, then the closing delimiter. */
    static final class RelatedParts implements Layout {
        private final OutputStream out;
        private final String boundary;

        RelatedParts(OutputStream out, String boundary) {
            this.out = out;
            this.boundary = boundary;
        }

        @Override
        public void begin(Item item) throws IOException {
            part(out, boundary, item.transferSyntax() == null ? "application/dicom"
                    : "application/dicom; transfer-syntax=" + item.transferSyntax());
        }

        /** Opens a part of a {@code multipart/related} body: its delimiter and header. */
        static void part(OutputStream out, String boundary, String contentType) throws IOException {
            out.write(("--" + boundary + "\r\nContent-Type: " + contentType + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        }

        /** Ends a part. */
        static void endPart(OutputStream out) throws IOException {
            out.write(CRLF);
        }

        /** Closes a {@code multipart/related} body. */
        static void close(OutputStream out, String boundary) throws IOException {
            out.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        @Override
        public void write(byte[] bytes, int length) throws IOException {
            out.write(bytes, 0, length);
        }

        @Override
        public void end(Item item) throws IOException {
            endPart(out);
        }

        @Override
        public void finish() throws IOException {
            close(out, boundary);
        }
    }

    /**
     * Copies a small object (a thumbnail) to {@code out}; {@code false} when it is not there.
     *
     * @throws IOException when the store cannot be read
     */
    boolean copy(String bucket, String key, OutputStream out, Runnable beforeFirstByte) throws IOException {
        try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(key))) {
            beforeFirstByte.run();
            in.transferTo(out);
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (SdkException e) {
            throw new IOException("the object store could not be read", e);
        }
    }

    /** The stored file's bytes {@code from} to {@code to}, both included (a ranged read). */
    InputStream range(Item item, long from, long to) throws IOException {
        return open(item, "bytes=" + from + "-" + to);
    }

    private InputStream open(Item item) throws IOException {
        return open(item, null);
    }

    /** The object's bytes ({@code range}: an HTTP range, or null for all of them); a missing object is damage. */
    private InputStream open(Item item, String range) throws IOException {
        try {
            return s3.getObject(b -> b.bucket(item.bucket()).key(item.objectKey()).range(range));
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
        return UID.matcher(uid).matches() && !uid.startsWith(".") ? uid : UNKNOWN;
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
