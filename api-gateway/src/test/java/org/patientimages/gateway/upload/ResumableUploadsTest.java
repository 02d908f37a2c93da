package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResumableUploadsTest {

    @TempDir
    Path root;

    private final JsonMapper json = JsonMapper.builder().build();

    @Test
    void chunks_append_at_the_end_a_broken_off_body_keeps_what_arrived_and_one_past_the_length_keeps_nothing() {
        ResumableUploads uploads = uploads(Duration.ofHours(1));
        ResumableUploads.Upload upload = created(uploads, 1000);
        assertThat(uploads.offset(upload)).isZero();

        try (ResumableUploads.Chunks chunks = uploads.lock(upload)) {
            var appended = chunks.append(new ByteArrayInputStream(bytes(0, 300)), 1000, null);
            assertThat(appended).isEqualTo(new ResumableUploads.Chunks.Appended(300, false, false, false));
            appended = chunks.append(new CutOffBody(bytes(300, 200)), 700, null);
            assertThat(appended).isEqualTo(new ResumableUploads.Chunks.Appended(200, true, false, false));
            appended = chunks.append(new ByteArrayInputStream(bytes(500, 501)), 500, null);
            assertThat(appended.tooLong()).isTrue();
            assertThat(chunks.size()).isEqualTo(500);
            assertThat(chunks.head(8192)).isEqualTo(bytes(0, 500));
        }
        assertThat(uploads.offset(upload)).isEqualTo(500);
        assertThat(uploads.find(upload.uploadId().toString()).orElseThrow()).isEqualTo(upload);
    }

    @Test
    void parts_are_appended_whole_in_order_and_a_part_that_cannot_be_read_leaves_nothing() {
        ResumableUploads uploads = uploads(Duration.ofHours(1));
        ResumableUploads.Upload first = created(uploads, 300);
        ResumableUploads.Upload second = created(uploads, 700);
        for (var part : java.util.Map.of(first, bytes(0, 300), second, bytes(300, 700)).entrySet()) {
            try (ResumableUploads.Chunks chunks = uploads.lock(part.getKey())) {
                chunks.append(new ByteArrayInputStream(part.getValue()), part.getKey().length(), null);
            }
        }
        ResumableUploads.Upload whole = created(uploads, 1000);
        try (ResumableUploads.Chunks chunks = uploads.lock(whole)) {
            chunks.appendFile(uploads.file(first));
            chunks.appendFile(uploads.file(second));
            assertThat(chunks.size()).isEqualTo(1000);
            assertThat(chunks.head(8192)).isEqualTo(bytes(0, 1000));
            assertThatThrownBy(() -> chunks.appendFile(root.resolve("gone.bin"))).isInstanceOf(ApiProblem.class);
            assertThat(chunks.size()).as("nothing of a part that cannot be read").isEqualTo(1000);
        }
        assertThat(uploads.offset(whole)).isEqualTo(1000);
    }

    @Test
    void a_chunk_with_a_checksum_is_kept_only_whole_and_matching() throws Exception {
        ResumableUploads uploads = uploads(Duration.ofHours(1));
        ResumableUploads.Upload upload = created(uploads, 1000);

        try (ResumableUploads.Chunks chunks = uploads.lock(upload)) {
            var appended = chunks.append(new ByteArrayInputStream(bytes(0, 300)), 1000,
                    ChunkChecksum.parse("sha256 " + digest("SHA-256", bytes(0, 300))));
            assertThat(appended).isEqualTo(new ResumableUploads.Chunks.Appended(300, false, false, false));

            appended = chunks.append(new ByteArrayInputStream(bytes(300, 200)), 700,
                    ChunkChecksum.parse("sha1 " + digest("SHA-1", bytes(300, 199))));
            assertThat(appended).isEqualTo(new ResumableUploads.Chunks.Appended(0, false, false, true));
            assertThat(chunks.size()).as("nothing of the mismatching chunk").isEqualTo(300);

            appended = chunks.append(new CutOffBody(bytes(300, 200)), 700,
                    ChunkChecksum.parse("md5 " + digest("MD5", bytes(300, 200))));
            assertThat(appended).as("a broken-off body cannot be checked")
                    .isEqualTo(new ResumableUploads.Chunks.Appended(0, true, false, false));
            assertThat(chunks.size()).isEqualTo(300);

            appended = chunks.append(new ByteArrayInputStream(bytes(300, 200)), 700,
                    ChunkChecksum.parse("SHA1 " + digest("SHA-1", bytes(300, 200))));
            assertThat(appended.bytes()).isEqualTo(200);
            assertThat(chunks.head(8192)).isEqualTo(bytes(0, 500));
        }
    }

    @Test
    void an_upload_checksum_header_names_an_offered_algorithm_and_its_digest_in_base64() {
        assertThat(ChunkChecksum.parse(null)).isNull();
        for (String header : List.of("crc32 AAAAAA==", "sha512 " + "A".repeat(88))) {
            assertThatThrownBy(() -> ChunkChecksum.parse(header)).isInstanceOfSatisfying(ApiProblem.class,
                    e -> assertThat(e.code()).isEqualTo("CHECKSUM_ALGORITHM_UNSUPPORTED"));
        }
        for (String header : List.of("sha1", "sha1 not*base64", "sha256 AAAA", "sha1 " + "A".repeat(44))) {
            assertThatThrownBy(() -> ChunkChecksum.parse(header)).as(header).isInstanceOfSatisfying(ApiProblem.class,
                    e -> assertThat(e.code()).isEqualTo("INVALID_UPLOAD_CHECKSUM"));
        }
    }

    private static String digest(String algorithm, byte[] bytes) throws Exception {
        return java.util.Base64.getEncoder().encodeToString(
                java.security.MessageDigest.getInstance(algorithm).digest(bytes));
    }

    @Test
    void only_one_request_at_a_time_appends_to_an_upload() {
        ResumableUploads uploads = uploads(Duration.ofHours(1));
        ResumableUploads.Upload upload = created(uploads, 10);
        try (ResumableUploads.Chunks held = uploads.lock(upload)) {
            assertThatThrownBy(() -> uploads.lock(upload)).isInstanceOfSatisfying(ApiProblem.class, e -> {
                assertThat(e.code()).isEqualTo("UPLOAD_LOCKED");
                assertThat(e.status().value()).isEqualTo(423);
                assertThat(e.retryable()).isTrue();
            });
        }
        uploads.lock(upload).close(); // released with the first
    }

    @Test
    void an_accepted_upload_keeps_only_its_answer_and_counts_as_all_received() throws Exception {
        ResumableUploads uploads = uploads(Duration.ofHours(1));
        ResumableUploads.Upload upload = created(uploads, 3);
        try (ResumableUploads.Chunks chunks = uploads.lock(upload)) {
            chunks.append(new ByteArrayInputStream(bytes(0, 3)), 3, null);
        }
        var answer = json.readTree("{\"jobId\":\"j1\",\"imageId\":\"i1\",\"status\":\"QUEUED\"}");
        uploads.accepted(upload.accepted(answer));

        ResumableUploads.Upload found = uploads.find(upload.uploadId().toString()).orElseThrow();
        assertThat(found.accepted()).isTrue();
        assertThat(found.registered().path("jobId").asString()).isEqualTo("j1");
        assertThat(uploads.offset(found)).isEqualTo(3);
        assertThat(root.resolve(upload.uploadId() + ".bin")).doesNotExist();
        assertThatThrownBy(() -> uploads.lock(found)).isInstanceOfSatisfying(ApiProblem.class,
                e -> assertThat(e.code()).isEqualTo("UPLOAD_NOT_FOUND"));
    }

    @Test
    void an_upload_untouched_for_the_expiry_is_gone_and_so_is_a_data_file_without_its_record() throws Exception {
        ResumableUploads uploads = uploads(Duration.ofMinutes(10));
        ResumableUploads.Upload upload = created(uploads, 10);
        assertThat(uploads.expired(upload)).isFalse();
        assertThat(uploads.expiresAt(upload)).isAfter(Instant.now().plus(Duration.ofMinutes(9)));

        FileTime old = FileTime.from(Instant.now().minus(Duration.ofMinutes(11)));
        Files.setLastModifiedTime(root.resolve(upload.uploadId() + ".json"), old);
        Files.setLastModifiedTime(root.resolve(upload.uploadId() + ".bin"), old);
        assertThat(uploads.find(upload.uploadId().toString())).isEmpty();
        assertThat(uploads.all()).containsExactly(upload);
        assertThat(uploads.expired(upload)).isTrue();

        UUID orphan = UUID.randomUUID();
        Files.write(root.resolve(orphan + ".bin"), bytes(0, 5));
        Files.setLastModifiedTime(root.resolve(orphan + ".bin"), old);
        UUID halfCreated = UUID.randomUUID();
        Files.write(root.resolve(halfCreated + ".json.tmp"), bytes(0, 5));
        Files.setLastModifiedTime(root.resolve(halfCreated + ".json.tmp"), old);
        Files.write(root.resolve(UUID.randomUUID() + ".bin"), bytes(0, 5)); // recent: may still get its record
        assertThat(uploads.orphans()).containsExactlyInAnyOrder(orphan, halfCreated);
        uploads.delete(orphan);
        uploads.delete(halfCreated);
        uploads.delete(upload.uploadId());
        assertThat(uploads.all()).isEmpty();
        assertThat(uploads.orphans()).isEmpty();
    }

    @Test
    void ids_that_are_not_ours_find_nothing() {
        ResumableUploads uploads = uploads(Duration.ofHours(1));
        assertThat(uploads.find("../../etc/passwd")).isEmpty();
        assertThat(uploads.find(UUID.randomUUID().toString())).isEmpty();
    }

    @Test
    void upload_metadata_is_base64_pairs_and_anything_else_is_invalid_metadata() {
        assertThat(ResumableUploadController.metadata("filename a25lZS5kY20,name S27DpGU,tags a25lZSwgbXJp,empty"))
                .isEqualTo(Map.of("filename", "knee.dcm", "name", "Knäe", "tags", "knee, mri", "empty", ""));
        assertThat(ResumableUploadController.metadata(null)).isEmpty();
        for (String bad : List.of("name !!!", "name YQ,name Yg", ", name YQ")) {
            assertThatThrownBy(() -> ResumableUploadController.metadata(bad)).isInstanceOfSatisfying(ApiProblem.class,
                    e -> assertThat(e.code()).isEqualTo("INVALID_METADATA"));
        }
    }

    private static ResumableUploads.Upload created(ResumableUploads uploads, long length) {
        ResumableUploads.Upload upload = upload(length);
        uploads.create(upload);
        return upload;
    }

    private ResumableUploads uploads(Duration expiry) {
        try {
            return new ResumableUploads(new ResumableUploads.ResumableProperties(root, expiry, Duration.ofMinutes(1)),
                    new StagingArea.StagingProperties(StagingArea.Mode.DIRECTORY, root.resolve("staging"), "b",
                            DataSize.ofMegabytes(8), Duration.ofHours(1), Duration.ofMinutes(5), DataSize.ofBytes(0)),
                    json);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static ResumableUploads.Upload upload(long length) {
        return new ResumableUploads.Upload(UUID.randomUUID(), UUID.randomUUID().toString(), "alice", length, "a.bin",
                "A", null, List.of("knee"), null, Instant.parse("2026-11-28T10:15:30.123Z"), null, null);
    }

    private static byte[] bytes(int from, int count) {
        byte[] bytes = new byte[count];
        for (int i = 0; i < count; i++) {
            bytes[i] = (byte) (from + i);
        }
        return bytes;
    }
}
