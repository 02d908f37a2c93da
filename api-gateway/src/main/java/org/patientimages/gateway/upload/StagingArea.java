package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where uploads wait until a worker has stored them: a directory shared with the workers, or a staging bucket
 * when the workers run on other hosts ({@code patient-images.staging.mode}). Whatever is under a key is complete.
 */
public interface StagingArea {

    enum Mode { DIRECTORY, S3 }

    /**
     * @param mode            {@code directory} (shared with the workers) or {@code s3} (a staging bucket in the
     *                        object store of {@code patient-images.storage})
     * @param partSize        in {@code s3} mode, the size of the parts a large upload is sent in; one part per
     *                        upload in flight is held in memory
     * @param cleanupGrace    how long a staged file may sit untouched before the sweeper looks at it
     * @param cleanupInterval how often the sweeper runs
     * @param minFreeSpace    in {@code directory} mode, the free space its disk keeps: an upload whose declared
     *                        length would leave less is refused with {@code 503 STAGING_FULL} before its body is
     *                        read, and the gateway is not ready while less is free
     */
    @ConfigurationProperties("patient-images.staging")
    record StagingProperties(@DefaultValue("directory") Mode mode,
                             @DefaultValue("data/staging") Path directory,
                             @DefaultValue("patient-images-staging") String bucket,
                             @DefaultValue("8MB") DataSize partSize,
                             @DefaultValue("1h") Duration cleanupGrace,
                             @DefaultValue("5m") Duration cleanupInterval,
                             @DefaultValue("1GB") DataSize minFreeSpace) {
    }

    /** A staged upload: its key (or key + ".part" while incomplete) and when it was last written. */
    record Entry(String name, Instant modified) {
        public boolean incomplete() {
            return name.endsWith(".part");
        }

        public String key() {
            return incomplete() ? name.substring(0, name.length() - ".part".length()) : name;
        }
    }

    /** What streaming an upload into the staging area learnt about it. */
    record Staged(String key, long sizeBytes, String sha256) {
    }

    /** A staging area that cannot take an upload is the server's problem, and one that passes: 503, retryable. */
    static ApiProblem unavailable() {
        return ApiProblem.unavailable("STAGING_UNAVAILABLE",
                "The staging area cannot take the upload right now; send it again later.");
    }

    /** No room for the upload right now: the server's problem, and one that passes: 503, retryable. */
    static ApiProblem full() {
        return ApiProblem.unavailable("STAGING_FULL",
                "The staging area has no room for the upload right now; send it again later.");
    }

    /** The upload is larger than the limit; what was written is already removed. */
    final class TooLarge extends IOException {
        TooLarge(long limit) {
            super("larger than " + limit + " bytes");
        }
    }

    /**
     * Streams the bytes in under the key, computing size and SHA-256 on the way. {@code checkHead} sees the
     * first bytes as soon as they are in (and may throw to refuse the upload). An {@link IOException} means the
     * request's body could not be read; a failure of the staging area itself is not one. Nothing is left
     * behind when it throws.
     */
    Staged write(String key, InputStream in, long maxBytes, Consumer<byte[]> checkHead) throws IOException;

    /**
     * Stages a file of the gateway's own (a resumable upload's received bytes) under the key, as {@link #write}
     * stages a body, when there is room for it ({@code 503 STAGING_FULL} otherwise); the file itself stays where it
     * is. An {@link IOException} is a failure to read it.
     */
    default Staged adopt(String key, Path file, long maxBytes, Consumer<byte[]> checkHead) throws IOException {
        if (!hasRoomFor(Files.size(file))) {
            throw full();
        }
        try (InputStream in = Files.newInputStream(file)) {
            return write(key, in, maxBytes, checkHead);
        }
    }

    /** Makes a written upload visible to the workers under its key. */
    void commit(Staged staged);

    /** Removes whatever is staged for the key, complete or not. */
    void discard(String key);

    /** Everything staged last written before {@code cutoff}. */
    List<Entry> olderThan(Instant cutoff) throws IOException;

    void delete(Entry entry) throws IOException;

    boolean isWritable();

    /** Whether {@code bytes} more would leave the staging area the free space it keeps; a bucket always has room. */
    default boolean hasRoomFor(long bytes) {
        return true;
    }
}
