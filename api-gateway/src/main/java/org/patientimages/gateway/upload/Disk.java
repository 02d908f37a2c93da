package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writing the gateway's own files (staged uploads, resumable uploads). A failure of our own disk (full, gone,
 * read-only) is the server's problem, not the request's: it is no {@link IOException}, which the callers keep
 * for a body that could not be read, but {@code 503 STAGING_UNAVAILABLE}, logged here with its cause.
 */
final class Disk {

    private static final Logger log = LoggerFactory.getLogger(Disk.class);

    private Disk() {
    }

    static void writeFully(FileChannel out, ByteBuffer bytes) {
        try {
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
        } catch (IOException e) {
            throw failed(e);
        }
    }

    static void force(FileChannel out) {
        try {
            out.force(true);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    /** Forces a directory's entries to disk: a new or renamed file's name survives the power going. */
    static void forceDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            throw failed(e);
        }
    }

    /**
     * Whether {@code bytes} more would leave the disk {@code minFree}, by the free space the file system reports
     * for the gateway's user, which is what a write may use; a disk that cannot say has no room.
     */
    static boolean hasRoom(FileStore disk, long bytes, long minFree) {
        try {
            return disk.getUsableSpace() - bytes >= minFree;
        } catch (IOException e) {
            return false;
        }
    }

    static ApiProblem failed(IOException e) {
        log.warn("the gateway cannot write an upload's file: {}", e.toString());
        return StagingArea.unavailable();
    }

    /**
     * A file nobody will read goes at once, or, when the disk will not even do that, with a sweeper: the answer
     * the client gets is that of what went wrong first.
     */
    static void removeQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.warn("a file of an upload not accepted stays for the sweeper: {}", e.toString());
        }
    }
}
