package org.patientimages.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BenchTest {

    private static final String USAGE = "--files N --size 1MiB [--skip-direct true] --token T --s3 URL";

    @Test
    void takes_the_options_its_usage_shows_in_order() {
        Map<String, String> options = Bench.options(new String[] {"--s3", "http://s3", "--files", "3", "--skip-direct", "true"},
                USAGE);
        assertThat(options).containsExactly(Map.entry("s3", "http://s3"), Map.entry("files", "3"),
                Map.entry("skip-direct", "true"));
    }

    @Test
    void a_mistyped_option_stops_the_run_and_only_its_name_is_told_back() {
        assertThatThrownBy(() -> Bench.options(new String[] {"--token", "secret-token", "--file", "3"}, USAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown option --file;")
                .message().doesNotContain("secret-token");
    }

    @Test
    void an_option_without_a_value_or_a_bare_word_is_refused() {
        assertThatThrownBy(() -> Bench.options(new String[] {"--token", "secret-token", "--files"}, USAGE))
                .hasMessageStartingWith("--files needs a value;").message().doesNotContain("secret-token");
        assertThatThrownBy(() -> Bench.options(new String[] {"files", "3"}, USAGE))
                .hasMessageStartingWith("unknown option files;");
    }

    @Test
    void the_services_metrics_are_on_their_management_ports_unless_given() {
        assertThat(Bench.metrics(Map.of("worker-metrics", "http://w:1/p"), "api-gateway", "upload-worker",
                "metadata-service")).containsExactly(
                Map.entry("api-gateway", "http://127.0.0.1:9796/actuator/prometheus"),
                Map.entry("upload-worker", "http://w:1/p"),
                Map.entry("metadata-service", "http://127.0.0.1:9798/actuator/prometheus"));
    }
}
