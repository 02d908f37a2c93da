package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Resumable uploads in progress (the tus protocol's uploads): per upload a data file that grows chunk by chunk,
 * each chunk forced to disk before it is acknowledged, and a small JSON file with what was declared when the
 * upload was created (and, once it is accepted, its job). The directory may be shared by several gateways: a
 * chunk is appended under an exclusive lock on the data file. An upload untouched for {@code expiry} is gone.
 */
@Component
class ResumableUploads {

    /**
     * @param directory where uploads in progress are kept; several gateways behind one name share it (or route
     *                  an upload's requests to the gateway that created it)
     * @param expiry      how long an upload is kept after its last chunk (and an accepted one's answer after it
     *                    was accepted)
     * @param acceptAfter how long an upload with all its bytes but not accepted (recording failed when its last
     *                    chunk came) is left to its client before the gateway's sweep accepts it
     */
    @ConfigurationProperties("patient-images.resumable")
    record ResumableProperties(@DefaultValue("data/resumable") Path directory, @DefaultValue("24h") Duration expiry,
                               @DefaultValue("1m") Duration acceptAfter) {
    }

    /**
     * What was declared when the upload was created; {@code registered} is the metadata-service's answer once accepted.
     * {@code concat} is tus's {@code Upload-Concat}: null for a plain upload, {@code partial} for a part of a file
     * sent in parallel (never accepted by itself), {@code final;<the parts' URLs>} for the file made of them.
     */
    record Upload(UUID uploadId, String patientId, String owner, long length, String filename, String name,
                  String description, List<String> tags, String sha256, Instant createdAt, JsonNode registered,
                  String concat) {

        static final String PARTIAL = "partial";

        Upload {
            registered = registered == null || registered.isNull() ? null : registered; // read back as JSON null
        }

        boolean accepted() {
            return registered != null;
        }

        UploadMetadata metadata() {
            return new UploadMetadata(name, description, tags, sha256);
        }

        Upload accepted(JsonNode answer) {
            return new Upload(uploadId, patientId, owner, length, filename, name, description, tags, sha256, createdAt,
                    answer, concat);
        }

        /** A part of a file sent in parallel: complete, it waits for the upload that concatenates it. */
        boolean partial() {
            return PARTIAL.equals(concat);
        }
    }

    private static final int BUFFER = 256 * 1024;

    private final Path root;
    private final FileStore disk;
    private final long minFreeBytes;
    private final Duration expiry;
    private final JsonMapper json;
    private final Clock clock;

    ResumableUploads(ResumableProperties properties, StagingArea.StagingProperties staging, JsonMapper json)
            throws IOException {
        this.root = properties.directory().toAbsolutePath().normalize();
        Files.createDirectories(root);
        this.disk = Files.getFileStore(root);
        this.minFreeBytes = staging.minFreeSpace().toBytes();
        this.expiry = properties.expiry();
        this.json = json;
        this.clock = Clock.systemUTC();
    }

    void create(Upload upload) {
        try {
            Files.createFile(data(upload.uploadId()));
        } catch (IOException e) {
            throw Disk.failed(e);
        }
        save(upload);
    }

    /** Writes the upload's record under a temporary name, forces it, then renames it into place. */
    void save(Upload upload) {
        Path record = record(upload.uploadId());
        Path temp = root.resolve(upload.uploadId() + ".json.tmp");
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Disk.writeFully(out, ByteBuffer.wrap(json.writeValueAsBytes(upload)));
            Disk.force(out);
        } catch (IOException e) {
            throw Disk.failed(e);
        }
        try {
            Files.move(temp, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw Disk.failed(e);
        }
        Disk.forceDirectory(root);
    }

    /** The upload of this id, unless there is none, it expired, or the id is not one of ours. */
    Optional<Upload> find(String uploadId) {
        UUID id;
        try {
            id = UUID.fromString(uploadId);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return read(id).filter(upload -> expiresAt(upload).isAfter(clock.instant()));
    }

    private Optional<Upload> read(UUID id) {
        try {
            return Optional.of(json.readValue(Files.readAllBytes(record(id)), Upload.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | JacksonException e) {
            throw Disk.failed(e instanceof IOException io ? io : new IOException(e));
        }
    }

    /** Where an upload stands: the bytes received so far (all of them once accepted) and when it expires. */
    record Progress(long offset, Instant expiresAt) {
    }

    /** The upload's progress, from one look at each of its two files. */
    Progress progress(Upload upload) {
        long size = 0;
        Instant written = Instant.EPOCH;
        try {
            BasicFileAttributes data = Files.readAttributes(data(upload.uploadId()), BasicFileAttributes.class);
            size = data.size();
            written = data.lastModifiedTime().toInstant();
        } catch (NoSuchFileException e) {
            // none received yet, or accepted: its record says
        } catch (IOException e) {
            throw Disk.failed(e);
        }
        Instant touched = modified(record(upload.uploadId()));
        return new Progress(upload.accepted() ? upload.length() : size,
                (written.isAfter(touched) ? written : touched).plus(expiry));
    }

    /** Bytes received so far: all of them once the upload was accepted. */
    long offset(Upload upload) {
        return progress(upload).offset();
    }

    /** Its last chunk (or its acceptance) plus the expiry. */
    Instant expiresAt(Upload upload) {
        return progress(upload).expiresAt();
    }

    private static Instant modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    /** Whether {@code bytes} more leave its disk the free space the staging area keeps ({@code min-free-space}). */
    boolean hasRoomFor(long bytes) {
        return Disk.hasRoom(disk, bytes, minFreeBytes);
    }

    /**
     * The upload's data file, locked for this request alone: {@code 423 UPLOAD_LOCKED} while another request
     * (here or on another gateway sharing the directory) appends to it, {@code 404} once it is gone.
     */
    Chunks lock(Upload upload) {
        FileChannel channel;
        try {
            channel = FileChannel.open(data(upload.uploadId()), StandardOpenOption.WRITE, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw notFound(upload.uploadId().toString());
        } catch (IOException e) {
            throw Disk.failed(e);
        }
        FileLock lock = null;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            // held by another request of this gateway
        } catch (IOException e) {
            closeQuietly(channel);
            throw Disk.failed(e);
        }
        if (lock == null) {
            closeQuietly(channel);
            throw new ApiProblem(HttpStatus.LOCKED, "UPLOAD_LOCKED",
                    "Another request is sending bytes of this upload; send yours when it has ended.", true);
        }
        return new Chunks(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written through it
        }
    }

    /** The file of the received bytes. */
    Path file(Upload upload) {
        return data(upload.uploadId());
    }

    /** The bytes are staged and recorded: only the answer is kept, until the upload expires. */
    void accepted(Upload upload) {
        save(upload);
        Disk.removeQuietly(data(upload.uploadId()));
    }

    void delete(UUID uploadId) {
        Disk.removeQuietly(data(uploadId));
        Disk.removeQuietly(record(uploadId));
        Disk.removeQuietly(root.resolve(uploadId + ".json.tmp"));
    }

    /** Every upload on record, expired or not; records that cannot be read are left out. */
    List<Upload> all() throws IOException {
        List<Upload> uploads = new ArrayList<>();
        try (Stream<Path> files = Files.list(root)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(".json")) {
                    try {
                        read(UUID.fromString(name.substring(0, name.length() - ".json".length()))).ifPresent(uploads::add);
                    } catch (IllegalArgumentException | ApiProblem e) {
                        // not ours, or half-written: left to an operator
                    }
                }
            }
        }
        return uploads;
    }

    /**
     * Files of uploads whose record is gone or was never written (the gateway stopped in between: a data file, a
     * record's temporary file), untouched for the expiry.
     */
    List<UUID> orphans() throws IOException {
        Instant cutoff = clock.instant().minus(expiry);
        List<UUID> orphans = new ArrayList<>();
        try (Stream<Path> files = Files.list(root)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                int dot = name.indexOf('.');
                boolean leftOver = name.endsWith(".bin") || name.endsWith(".json.tmp");
                if (leftOver && dot > 0 && modified(file).isBefore(cutoff)) {
                    try {
                        UUID id = UUID.fromString(name.substring(0, dot));
                        if (!Files.exists(record(id)) && !orphans.contains(id)) {
                            orphans.add(id);
                        }
                    } catch (IllegalArgumentException e) {
                        // not ours
                    }
                }
            }
        }
        return orphans;
    }

    boolean expired(Upload upload) {
        return !expiresAt(upload).isAfter(clock.instant());
    }

    /** How long ago the upload's data was last written. */
    Duration idle(Upload upload) {
        return Duration.between(modified(data(upload.uploadId())), clock.instant());
    }

    static ApiProblem notFound(String uploadId) {
        return new ApiProblem(HttpStatus.NOT_FOUND, "UPLOAD_NOT_FOUND",
                "No upload in progress with id " + uploadId + " (an upload expires when no chunk arrives for a while).",
                false);
    }

    private Path data(UUID uploadId) {
        return root.resolve(uploadId + ".bin");
    }

    private Path record(UUID uploadId) {
        return root.resolve(uploadId + ".json");
    }

    /** An upload's data file under its lock, for one request. */
    static final class Chunks implements AutoCloseable {

        /**
         * What one request appended: the bytes kept, whether its body broke off, whether it went past the length,
         * whether its bytes did not match the checksum the client declared for them.
         */
        record Appended(long bytes, boolean brokenOff, boolean tooLong, boolean mismatch) {
        }

        private final FileChannel channel;

        private Chunks(FileChannel channel) {
            this.channel = channel;
        }

        long size() {
            try {
                return channel.size();
            } catch (IOException e) {
                throw Disk.failed(e);
            }
        }

        /**
         * Appends the body, at most {@code max} bytes, and forces what was kept to disk. A body that breaks off
         * keeps what arrived (the client resumes from there); one that goes past {@code max} keeps nothing. With a
         * checksum, the body is kept only whole and matching it: one that broke off cannot be checked, so it keeps
         * nothing either.
         */
        Appended append(InputStream in, long max, ChunkChecksum checksum) {
            long start = size();
            position(start);
            long written = 0;
            boolean brokenOff = false;
            MessageDigest digest = checksum == null ? null : checksum.digest();
            byte[] buffer = new byte[BUFFER];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    if (written + n > max) {
                        truncate(start);
                        return new Appended(0, false, true, false);
                    }
                    Disk.writeFully(channel, ByteBuffer.wrap(buffer, 0, n));
                    if (digest != null) {
                        digest.update(buffer, 0, n);
                    }
                    written += n;
                }
            } catch (IOException e) {
                brokenOff = true;
            }
            if (digest != null && (brokenOff || !checksum.matches(digest))) {
                truncate(start);
                Disk.force(channel);
                return new Appended(0, brokenOff, false, !brokenOff);
            }
            Disk.force(channel);
            return new Appended(written, brokenOff, false, false);
        }

        /**
         * Appends the whole of another upload's data file (a part of a file sent in parallel) and forces it to disk;
         * nothing of it when it cannot be read through.
         */
        void appendFile(Path part) {
            long start = size();
            try (FileChannel from = FileChannel.open(part, StandardOpenOption.READ)) {
                long length = from.size();
                for (long copied = 0; copied < length; ) {
                    copied += from.transferTo(copied, length - copied, channel.position(start + copied));
                }
            } catch (IOException e) {
                truncate(start);
                throw Disk.failed(e);
            }
            Disk.force(channel);
        }

        private void position(long at) {
            try {
                channel.position(at);
            } catch (IOException e) {
                throw Disk.failed(e);
            }
        }

        private void truncate(long size) {
            try {
                channel.truncate(size);
            } catch (IOException e) {
                throw Disk.failed(e);
            }
        }

        /** The first {@code bytes} of the upload. */
        byte[] head(int bytes) {
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(bytes, size()));
            try {
                while (head.hasRemaining() && channel.read(head, head.position()) >= 0) {
                    // reads until full
                }
            } catch (IOException e) {
                throw Disk.failed(e);
            }
            return head.array();
        }

        @Override
        public void close() {
            closeQuietly(channel); // closing releases the lock
        }
    }
}
