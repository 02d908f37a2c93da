package org.patientimages.metadata.image;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.web.ApiException;

import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TagsTest {

    @Test
    void trims_lower_cases_and_drops_repeats() {
        assertThat(Tags.normalise(List.of(" MRI", "knee", "mri", "dicom:ct", "a.b_c-d"), "X"))
                .containsExactly("mri", "knee", "dicom:ct", "a.b_c-d");
    }

    @Test
    void refuses_bad_tags_with_a_detail_naming_the_tag_and_the_given_code() {
        assertThatThrownBy(() -> Tags.normalise(List.of("no spaces"), "INVALID_TAG"))
                .isInstanceOf(ApiException.class).hasMessageContaining("no spaces")
                .satisfies(e -> assertThat(((ApiException) e).code()).isEqualTo("INVALID_TAG"));
        assertThatThrownBy(() -> Tags.normalise(List.of("x".repeat(65)), "X")).isInstanceOf(ApiException.class);
        assertThatThrownBy(() -> Tags.normalise(List.of(""), "X")).isInstanceOf(ApiException.class);
        assertThatThrownBy(() -> Tags.normalise(Collections.singletonList(null), "X")).isInstanceOf(ApiException.class);
    }

    @Test
    void allows_fifty_tags_and_no_more() {
        assertThat(Tags.normalise(IntStream.range(0, 50).mapToObj(i -> "t" + i).toList(), "X")).hasSize(50);
        assertThatThrownBy(() -> Tags.normalise(IntStream.range(0, 51).mapToObj(i -> "t" + i).toList(), "X"))
                .hasMessageContaining("50");
    }
}
