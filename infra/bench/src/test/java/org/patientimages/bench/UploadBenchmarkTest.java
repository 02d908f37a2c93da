package org.patientimages.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNoException;

class UploadBenchmarkTest {

    @Test
    void a_poll_asks_for_the_earliest_started_pending_jobs_and_never_for_ended_ones() {
        Map<String, Long> started = Map.of("d", 40L, "a", 10L, "c", 30L, "b", 20L, "e", 50L);
        Map<String, Double> ended = Map.of("a", 5.0, "c", 7.0);

        assertThat(UploadBenchmark.pending(started, ended, 2)).containsExactly("b", "d");
        assertThat(UploadBenchmark.pending(started, ended, Integer.MAX_VALUE)).containsExactly("b", "d", "e");
        assertThat(UploadBenchmark.pending(started, Map.of("a", 1.0, "b", 1.0, "c", 1.0, "d", 1.0, "e", 1.0), 2)).isEmpty();
    }

    @Test
    void a_file_larger_than_the_benchmark_can_hold_is_refused_with_where_to_go_instead() {
        assertThatNoException().isThrownBy(() -> UploadBenchmark.checkSize(UploadBenchmark.MAX_SIZE));
        assertThatNoException().isThrownBy(() -> UploadBenchmark.checkSize(1));
        assertThatIllegalArgumentException().isThrownBy(() -> UploadBenchmark.checkSize(UploadBenchmark.MAX_SIZE + 1))
                .withMessageContaining("./dev bench-memory");
        assertThatIllegalArgumentException().isThrownBy(() -> UploadBenchmark.checkSize(0));
    }
}
