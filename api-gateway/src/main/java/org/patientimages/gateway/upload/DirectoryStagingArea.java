package org.patientimages.gateway.upload;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
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
    private final FileStore disk;
    private final long minFreeBytes;

    DirectoryStagingArea(StagingProperties properties) throws IOException {
        this.root = properties.directory().toAbsolutePath().normalize();
        Files.createDirectories(root);
        this.disk = Files.getFileStore(root);
        this.minFreeBytes = properties.minFreeSpace().toBytes();
    }

    @Override
    public Staged write(String key, InputStream in, long maxBytes, Consumer<byte[]> checkHead) throws IOException {
        Path temp = root.resolve(key + ".part");
        Intake intake = new Intake(maxBytes, checkHead);
        FileChannel out;
        try {
            out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw Disk.failed(e);
        }
        boolean done = false;
        try (out) {
            byte[] buffer = new byte[BUFFER];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                intake.take(buffer, 0, n);
                Disk.writeFully(out, ByteBuffer.wrap(buffer, 0, n));
            }
            Staged staged = intake.end(key);
            Disk.force(out);
            done = true;
            return staged;
        } finally {
            if (!done) {
                Disk.removeQuietly(temp);
            }
        }
    }

    /**
     * A file on the staging directory's own file system is not copied: a second name (a hard link) is made for it
     * under {@code <key>.part}, and it is read through once for its size, SHA-256 and head. Its bytes were forced to
     * disk as they arrived; {@link #commit} forces the new name. Discarding the key removes only that name. It takes
     * no room; a file elsewhere is copied, when there is room for it. Both names share one modification time, which
     * is set to now: the staging sweeper judges a staged file by its age, and the file's last byte may have come
     * long before (a client retrying the end an hour later), which would make a just staged upload look abandoned.
     */
    @Override
    public Staged adopt(String key, Path file, long maxBytes, Consumer<byte[]> checkHead) throws IOException {
        Path temp = root.resolve(key + ".part");
        try {
            Files.createLink(temp, file);
        } catch (IOException | UnsupportedOperationException e) {
            return StagingArea.super.adopt(key, file, maxBytes, checkHead);
        }
        boolean done = false;
        try (InputStream in = Files.newInputStream(temp)) {
            Files.setLastModifiedTime(temp, FileTime.from(Instant.now()));
            Intake intake = new Intake(maxBytes, checkHead);
            byte[] buffer = new byte[BUFFER];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                intake.take(buffer, 0, n);
            }
            Staged staged = intake.end(key);
            done = true;
            return staged;
        } finally {
            if (!done) {
                Disk.removeQuietly(temp);
            }
        }
    }

    /**
     * Renames the written file to its key, where the workers look for it, and forces the directory to disk: the
     * file's bytes were forced before, but without this the new name could be lost with the power, and an
     * accepted upload with it.
     */
    @Override
    public void commit(Staged staged) {
        try {
            Files.move(root.resolve(staged.key() + ".part"), root.resolve(staged.key()), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw Disk.failed(e);
        }
        Disk.forceDirectory(root);
    }

    @Override
    public boolean hasRoomFor(long bytes) {
        return Disk.hasRoom(disk, bytes, minFreeBytes);
    }

    @Override
    public void discard(String key) {
        Disk.removeQuietly(root.resolve(key + ".part"));
        Disk.removeQuietly(root.resolve(key));
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
