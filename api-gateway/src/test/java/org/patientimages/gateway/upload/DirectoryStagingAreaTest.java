package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.util.unit.DataSize;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DirectoryStagingAreaTest {

    private static final long LIMIT = 1L << 30;

    @TempDir
    Path root;

    @Test
    void a_body_is_staged_whole_with_its_size_sha256_and_head_and_committed_under_its_key() throws Exception {
        DirectoryStagingArea staging = staging();
        byte[] body = randomBytes(5 * 1024 * 1024 + 123);
        byte[][] head = new byte[1][];

        StagingArea.Staged staged = staging.write("k1", new ByteArrayInputStream(body), LIMIT, h -> head[0] = h.clone());
        staging.commit(staged);

        assertThat(staged.sizeBytes()).isEqualTo(body.length);
        assertThat(staged.sha256()).isEqualTo(sha256(body));
        assertThat(Files.readAllBytes(root.resolve("k1"))).isEqualTo(body);
        assertThat(head[0]).hasSize(Intake.SNIFF_BYTES);
        assertThat(root.resolve("k1.part")).doesNotExist();
    }

    @Test
    void a_body_that_breaks_off_leaves_nothing_behind() throws Exception {
        DirectoryStagingArea staging = staging();
        byte[] body = randomBytes(3 * 1024 * 1024);

        assertThatIOException().isThrownBy(() -> staging.write("k2", new CutOffBody(body), LIMIT, h -> { }))
                .withMessage("connection reset");
        try (var left = Files.list(root)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void a_file_of_the_gateways_own_is_staged_under_a_second_name_not_copied_and_discarding_it_keeps_the_file(
            @TempDir Path elsewhere) throws Exception {
        DirectoryStagingArea staging = staging();
        byte[] body = randomBytes(1024 * 1024 + 5);
        Path file = Files.write(elsewhere.resolve("upload.bin"), body);

        StagingArea.Staged staged = staging.adopt("k4", file, LIMIT, h -> { });
        assertThat(staged.sizeBytes()).isEqualTo(body.length);
        assertThat(staged.sha256()).isEqualTo(sha256(body));
        assertThat(Files.isSameFile(root.resolve("k4.part"), file)).as("the same file, not a copy").isTrue();
        staging.commit(staged);
        assertThat(Files.readAllBytes(root.resolve("k4"))).isEqualTo(body);
        staging.discard("k4");
        assertThat(root.resolve("k4")).doesNotExist();
        assertThat(Files.readAllBytes(file)).isEqualTo(body);

        assertThatThrownBy(() -> staging.adopt("k5", file, 100, h -> { })).isInstanceOf(StagingArea.TooLarge.class);
        assertThat(root.resolve("k5.part")).doesNotExist();
        assertThat(file).exists();
    }

    @Test
    void a_file_whose_last_byte_came_long_ago_is_staged_as_new_so_the_sweeper_leaves_it_to_its_job(
            @TempDir Path elsewhere) throws Exception {
        DirectoryStagingArea staging = staging();
        Path file = Files.write(elsewhere.resolve("upload.bin"), randomBytes(1000));
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minus(Duration.ofHours(3))));

        staging.commit(staging.adopt("k6", file, LIMIT, h -> { }));

        assertThat(staging.olderThan(Instant.now().minus(Duration.ofHours(1)))).isEmpty();
        assertThat(Files.getLastModifiedTime(root.resolve("k6")).toInstant())
                .isAfter(Instant.now().minus(Duration.ofMinutes(1)));
    }

    @Test
    void room_is_the_disks_usable_space_less_the_free_space_it_keeps() throws Exception {
        long usable = Files.getFileStore(root).getUsableSpace();

        assertThat(staging(DataSize.ofBytes(0)).hasRoomFor(1 << 20)).isTrue();
        assertThat(staging(DataSize.ofBytes(0)).hasRoomFor(usable + (1L << 40))).isFalse();
        assertThat(staging(DataSize.ofBytes(usable + (1L << 40))).hasRoomFor(0)).isFalse();
        assertThat(staging(DataSize.ofBytes(usable / 2)).hasRoomFor(usable)).isFalse();
    }

    @Test
    void a_disk_that_cannot_be_written_is_the_servers_problem_503_not_the_requests() throws Exception {
        DirectoryStagingArea staging = staging();
        Files.delete(root);
        Files.writeString(root, "not a directory any more"); // what was the staging directory is now a file

        assertThatThrownBy(() -> staging.write("k3", new ByteArrayInputStream(randomBytes(1024)), LIMIT, h -> { }))
                .isInstanceOfSatisfying(ApiProblem.class, e -> {
                    assertThat(e.status().value()).isEqualTo(503);
                    assertThat(e.code()).isEqualTo("STAGING_UNAVAILABLE");
                    assertThat(e.retryable()).isTrue();
                });
        staging.discard("k3"); // quietly: the answer stays that of the failure
    }

    private DirectoryStagingArea staging() throws IOException {
        return staging(DataSize.ofBytes(0));
    }

    private DirectoryStagingArea staging(DataSize minFreeSpace) throws IOException {
        return new DirectoryStagingArea(new StagingArea.StagingProperties(StagingArea.Mode.DIRECTORY, root,
                "unused", DataSize.ofMegabytes(8), Duration.ofHours(1), Duration.ofMinutes(5), minFreeSpace));
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return bytes;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
