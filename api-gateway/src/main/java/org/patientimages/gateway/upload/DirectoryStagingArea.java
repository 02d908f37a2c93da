package org.patientimages.gateway.upload;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The staging area as a directory shared with the workers. A file is written under a temporary name, forced to
 * disk, then renamed to its key: a staged file under its key is always complete.
 */
@Component
@ConditionalOnProperty(name = "patient-images.staging.mode", havingValue = "directory", matchIfMissing = true)
class DirectoryStagingArea implements StagingArea {

    private static final int BUFFER = 256 * 1024;

    private final Path root;

    DirectoryStagingArea(StagingProperties properties) throws IOException {
        this.root = properties.directory().toAbsolutePath().normalize();
        Files.createDirectories(root);
    }

    @Override
    public Staged write(String key, InputStream in, long maxBytes, Consumer<byte[]> checkHead) throws IOException {
        Path temp = root.resolve(key + ".part");
        Intake intake = new Intake(maxBytes, checkHead);
        boolean done = false;
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] buffer = new byte[BUFFER];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                intake.take(buffer, 0, n);
                writeFully(out, ByteBuffer.wrap(buffer, 0, n));
            }
            Staged staged = intake.end(key);
            force(out);
            done = true;
            return staged;
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
        }
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

    /**
     * Renames the written file to its key, where the workers look for it, and forces the directory to disk: the
     * file's bytes were forced before, but without this the new name could be lost with the power, and an
     * accepted upload with it.
     */
    @Override
    public void commit(Staged staged) throws IOException {
        Files.move(root.resolve(staged.key() + ".part"), root.resolve(staged.key()), StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel directory = FileChannel.open(root, StandardOpenOption.READ)) {
            directory.force(true);
        }
    }

    @Override
    public void discard(String key) {
        try {
            Files.deleteIfExists(root.resolve(key + ".part"));
            Files.deleteIfExists(root.resolve(key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
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

    @Override
    public void delete(Entry entry) throws IOException {
        Files.deleteIfExists(root.resolve(entry.name()));
    }

    @Override
    public boolean isWritable() {
        return Files.isDirectory(root) && Files.isWritable(root);
    }
}
