package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

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

    private DirectoryStagingArea staging() throws IOException {
        return new DirectoryStagingArea(new StagingArea.StagingProperties(StagingArea.Mode.DIRECTORY, root,
                "unused", DataSize.ofMegabytes(8), Duration.ofHours(1), Duration.ofMinutes(5)));
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
