package org.patientimages.gateway.upload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * The directory, shared with the workers, where uploads wait to be stored. A file is written under a
 * temporary name, forced to disk, then renamed to its key: a staged file under its key is always complete.
 */
@Component
public class StagingArea {

    static final int SNIFF_BYTES = 8192;
    private static final int BUFFER = 256 * 1024;

    /**
     * @param cleanupGrace    how long a staged file may sit untouched before the sweeper looks at it
     * @param cleanupInterval how often the sweeper runs
     */
    @ConfigurationProperties("patient-images.staging")
    public record StagingProperties(@DefaultValue("data/staging") Path directory,
                                    @DefaultValue("1h") Duration cleanupGrace,
                                    @DefaultValue("5m") Duration cleanupInterval) {
    }

    /** A file in the staging area: its key (or key + ".part") and when it was last written. */
    public record Entry(String name, Instant modified) {
        public boolean incomplete() {
            return name.endsWith(".part");
        }

        public String key() {
            return incomplete() ? name.substring(0, name.length() - ".part".length()) : name;
        }
    }

    /** What streaming an upload into the staging area learnt about it. */
    public record Staged(Path file, long sizeBytes, String sha256) {
    }

    /** The upload is larger than the limit; what was written is already removed. */
    public static final class TooLarge extends IOException {
        TooLarge(long limit) {
            super("larger than " + limit + " bytes");
        }
    }

    private final Path root;

    StagingArea(StagingProperties properties) throws IOException {
        this.root = properties.directory().toAbsolutePath().normalize();
        Files.createDirectories(root);
    }

    /**
     * Streams the bytes into a temporary file of the key, computing size and SHA-256 on the way.
     * {@code checkHead} sees the first bytes as soon as they are in (and may throw to refuse the upload).
     * An {@link IOException} means the request's body could not be read; a failure to write the staging
     * area is an {@link UncheckedIOException}. Nothing is left behind when it throws.
     */
    public Staged write(String key, InputStream in, long maxBytes, Consumer<byte[]> checkHead) throws IOException {
        Path temp = root.resolve(key + ".part");
        MessageDigest digest = sha256();
        byte[] head = new byte[SNIFF_BYTES];
        int headLength = 0;
        long size = 0;
        boolean headChecked = false;
        boolean done = false;
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buffer = new byte[BUFFER];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                size += n;
                if (size > maxBytes) {
                    throw new TooLarge(maxBytes);
                }
                digest.update(buffer, 0, n);
                if (headLength < SNIFF_BYTES) {
                    int copy = Math.min(n, SNIFF_BYTES - headLength);
                    System.arraycopy(buffer, 0, head, headLength, copy);
                    headLength += copy;
                    if (headLength == SNIFF_BYTES) {
                        checkHead.accept(head);
                        headChecked = true;
                    }
                }
                writeFully(out, ByteBuffer.wrap(buffer, 0, n));
            }
            if (!headChecked && headLength > 0) {
                checkHead.accept(Arrays.copyOf(head, headLength));
            }
            force(out);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
        }
        return new Staged(temp, size, HexFormat.of().formatHex(digest.digest()));
    }

    /** A failure of our own disk is the server's problem, not the request's: it is not an IOException. */
    private static void writeFully(FileChannel out, ByteBuffer bytes) {
        try {
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing to the staging area failed", e);
        }
    }

    private static void force(FileChannel out) {
        try {
            out.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to the staging area failed", e);
        }
    }

    /** Renames a written file to its key, where the workers look for it. */
    public void commit(Staged staged, String key) throws IOException {
        Files.move(staged.file(), root.resolve(key), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes whatever is staged for the key, complete or not. */
    public void discard(String key) {
        try {
            Files.deleteIfExists(root.resolve(key + ".part"));
            Files.deleteIfExists(root.resolve(key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything in the staging area last written before {@code cutoff}. */
    public List<Entry> olderThan(Instant cutoff) throws IOException {
        try (Stream<Path> files = Files.list(root)) {
            List<Entry> old = new ArrayList<>();
            for (Path file : (Iterable<Path>) files::iterator) {
                Instant modified = Files.getLastModifiedTime(file).toInstant();
                if (modified.isBefore(cutoff)) {
                    old.add(new Entry(file.getFileName().toString(), modified));
                }
            }
            return old;
        }
    }

    public void delete(Entry entry) throws IOException {
        Files.deleteIfExists(root.resolve(entry.name()));
    }

    public boolean isWritable() {
        return Files.isDirectory(root) && Files.isWritable(root);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
