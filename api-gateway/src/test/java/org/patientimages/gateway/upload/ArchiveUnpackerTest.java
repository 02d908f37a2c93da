package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.util.unit.DataSize;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArchiveUnpackerTest {

    private static final byte[] PNG_HEAD = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
            'I', 'H', 'D', 'R'};

    @TempDir
    Path root;

    private final ContentSniffer sniffer = new ContentSniffer(ContentSnifferTest.DEFAULTS);

    @Test
    void each_file_is_staged_on_its_own_with_its_name_type_and_sha256_and_folders_and_hidden_files_are_passed_over()
            throws Exception {
        byte[] png = withHead(PNG_HEAD, 70_000);
        byte[] blob = randomBytes(300_000, 3);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("series/", null);
        entries.put("series/IM0001.png", png);
        entries.put("series/.DS_Store", randomBytes(10, 4));
        entries.put("__MACOSX/series/._IM0001.png", randomBytes(10, 5));
        entries.put("../../etc/notes.bin", blob);
        byte[] zip = zip(entries);
        ArchiveUnpacker unpacker = unpacker(1L << 30, 10);

        ArchiveUnpacker.Unpacked unpacked = unpacker.unpack(new ByteArrayInputStream(zip));

        assertThat(unpacked.sha256()).isEqualTo(sha256(zip));
        assertThat(unpacked.files()).hasSize(2);
        UploadRecorder.File first = unpacked.files().get(0);
        assertThat(first.filename()).isEqualTo("IM0001.png");
        assertThat(first.contentType()).isEqualTo("image/png");
        assertThat(first.staged().sha256()).isEqualTo(sha256(png));
        assertThat(Files.readAllBytes(root.resolve(first.staged().key() + ".part"))).isEqualTo(png);
        UploadRecorder.File second = unpacked.files().get(1);
        assertThat(second.filename()).as("no path, only the name").isEqualTo("notes.bin");
        assertThat(second.contentType()).isEqualTo("application/octet-stream");
        assertThat(second.staged().sizeBytes()).isEqualTo(blob.length);
        assertThat(unpacker.keys()).containsExactly(first.staged().key(), second.staged().key());
        assertThat(first.jobId().toString()).isEqualTo(first.staged().key());
    }

    @Test
    void a_file_of_a_refused_type_refuses_the_archive_by_its_name_and_its_staged_keys_are_known() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("a.bin", randomBytes(1000, 6));
        entries.put("page.html", "<html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8));
        ArchiveUnpacker unpacker = unpacker(1L << 30, 10);

        assertThatThrownBy(() -> unpacker.unpack(new ByteArrayInputStream(zip(entries))))
                .isInstanceOfSatisfying(ApiProblem.class, e -> {
                    assertThat(e.status().value()).isEqualTo(415);
                    assertThat(e.getMessage()).startsWith("'page.html' in the archive: ");
                });
        assertThat(unpacker.keys()).hasSize(2);
    }

    @Test
    void too_many_files_an_empty_file_and_bytes_past_the_limit_while_inflating_are_refused() throws Exception {
        Map<String, byte[]> three = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            three.put("f" + i + ".bin", randomBytes(100, i));
        }
        expectProblem(unpacker(1L << 30, 2), zip(three), 400, "ARCHIVE_TOO_MANY_FILES");

        expectProblem(unpacker(1L << 30, 10), zip(Map.of("empty.bin", new byte[0])), 400, "EMPTY_FILE");

        // 64 MiB of zeros deflate to about 64 KiB: counted as inflated, they stop at the limit
        Map<String, byte[]> bomb = new LinkedHashMap<>();
        bomb.put("small.bin", randomBytes(600_000, 9));
        bomb.put("zeros.bin", new byte[64 * 1024 * 1024]);
        byte[] zip = zip(bomb);
        assertThat(zip.length).isLessThan(1024 * 1024);
        expectProblem(unpacker(1024 * 1024, 10), zip, 413, "FILE_TOO_LARGE");
    }

    @Test
    void what_is_not_a_readable_zip_is_the_clients_400_and_a_body_that_breaks_off_is_not() throws Exception {
        expectProblem(unpacker(1L << 30, 10), randomBytes(5000, 10), 400, "EMPTY_ARCHIVE");
        byte[] zip = zip(Map.of("scan.bin", randomBytes(200_000, 11)));
        expectProblem(unpacker(1L << 30, 10), Arrays.copyOf(zip, zip.length / 2), 400, "MALFORMED_ARCHIVE");

        ArchiveUnpacker unpacker = unpacker(1L << 30, 10);
        assertThatIOException().isThrownBy(() -> unpacker.unpack(new CutOffBody(Arrays.copyOf(zip, zip.length / 2))))
                .withMessage("connection reset");
    }

    private void expectProblem(ArchiveUnpacker unpacker, byte[] body, int status, String code) {
        assertThatThrownBy(() -> unpacker.unpack(new ByteArrayInputStream(body)))
                .isInstanceOfSatisfying(ApiProblem.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.status().value()).isEqualTo(status);
                });
    }

    private ArchiveUnpacker unpacker(long limit, int maxFiles) throws IOException {
        return new ArchiveUnpacker(new DirectoryStagingArea(new StagingArea.StagingProperties(StagingArea.Mode.DIRECTORY,
                root, "unused", DataSize.ofMegabytes(8), Duration.ofHours(1), Duration.ofMinutes(5),
                DataSize.ofBytes(0))), sniffer, limit, maxFiles);
    }

    /** A ZIP of the entries in order; a null value is a folder. */
    private static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (var entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                if (entry.getValue() != null) {
                    zip.write(entry.getValue());
                }
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] withHead(byte[] head, int length) {
        byte[] bytes = randomBytes(length, 1);
        System.arraycopy(head, 0, bytes, 0, head.length);
        return bytes;
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return bytes;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
