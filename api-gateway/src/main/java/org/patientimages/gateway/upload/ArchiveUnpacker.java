package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The files of a ZIP archive (a folder, a DICOM series exported from a viewer) as they stream in: each staged
 * under a key of its own, its type decided from its bytes, never unpacked to a path of its name, whose last part is
 * kept as its file name only. Folders, macOS's {@code __MACOSX/} and hidden files ({@code .DS_Store}) are passed
 * over. The files' bytes together are within the upload limit, counted as they are inflated (a small archive that
 * inflates to terabytes stops at the limit). Every key staged is in {@link #keys()}, for the caller to discard
 * when the archive is refused; nothing is committed here.
 */
final class ArchiveUnpacker {

    /** The staged files in the archive's order, and the archive's own SHA-256. */
    record Unpacked(List<UploadRecorder.File> files, String sha256) {
    }

    private final ContentSniffer sniffer;
    private final StagedFiles staged;

    ArchiveUnpacker(StagingArea staging, ContentSniffer sniffer, long limit, int maxFiles) {
        this.sniffer = sniffer;
        this.staged = new StagedFiles(staging, limit, maxFiles, new StagedFiles.Wording("The archive's files",
                "ARCHIVE_TOO_MANY_FILES", "An archive holds at most " + maxFiles + " files."));
    }

    /** The keys staged so far, complete or not. */
    List<String> keys() {
        return staged.keys();
    }

    /**
     * Reads the archive to its end. An {@link IOException} is the client's body failing (the caller's
     * {@code 408}); an archive that cannot be read is {@code 400 MALFORMED_ARCHIVE}.
     */
    Unpacked unpack(InputStream body) throws IOException {
        Source source = new Source(body);
        try (ZipInputStream zip = new ZipInputStream(source, StandardCharsets.UTF_8)) {
            for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                String name = FileNames.sanitise(entry.getName());
                if (entry.isDirectory() || entry.getName().startsWith("__MACOSX/")
                        || FileNames.lastPart(entry.getName()).startsWith(".") || name == null) {
                    continue;
                }
                staged.stage(zip, "'" + name + "' in the archive", name, entry.getSize(), sniffer::check);
            }
            source.transferTo(OutputStream.nullOutputStream()); // the rest of the archive, for its SHA-256
        } catch (IOException | IllegalArgumentException e) {
            if (source.failed) {
                throw e;
            }
            throw ApiProblem.badRequest("MALFORMED_ARCHIVE", "The file part is not a ZIP archive that can be read ("
                    + e.getClass().getSimpleName() + ").");
        }
        if (staged.files().isEmpty()) {
            throw ApiProblem.badRequest("EMPTY_ARCHIVE", "The file part is not a ZIP archive with a file in it.");
        }
        return new Unpacked(staged.files(), HexFormat.of().formatHex(source.digest.digest()));
    }

    /** The request's part as read: hashed on the way, and whether it failed itself (not the archive in it). */
    private static final class Source extends FilterInputStream {

        private final MessageDigest digest;
        private boolean failed;

        Source(InputStream in) {
            super(in);
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n;
            try {
                n = super.read(b, off, len);
            } catch (IOException e) {
                failed = true;
                throw e;
            }
            if (n > 0) {
                digest.update(b, off, n);
            }
            return n;
        }

        /** Skipped bytes are read, so that they are hashed too. */
        @Override
        public long skip(long n) throws IOException {
            byte[] skipped = new byte[(int) Math.min(Math.max(n, 0), 8192)];
            return Math.max(read(skipped, 0, skipped.length), 0);
        }

        @Override
        public void close() {
            // the request's stream is the container's
        }
    }
}
