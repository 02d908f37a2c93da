package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;

import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UploadMetadataTest {

    @Test
    void normalises_tags_and_checksum() {
        var m = new UploadMetadata(" Knee ", "", List.of(" MRI", "knee", "mri"), "AB".repeat(32)).validated();
        assertThat(m.name()).isEqualTo("Knee");
        assertThat(m.description()).isNull();
        assertThat(m.tags()).containsExactly("mri", "knee");
        assertThat(m.sha256()).isEqualTo("ab".repeat(32));
    }

    @Test
    void refuses_bad_tags_with_a_detail_naming_the_tag() {
        assertThatThrownBy(() -> new UploadMetadata(null, null, List.of("no spaces"), null).validated())
                .isInstanceOf(ApiProblem.class)
                .hasMessageContaining("no spaces")
                .extracting(e -> ((ApiProblem) e).code()).isEqualTo("INVALID_METADATA");
        assertThatThrownBy(() -> new UploadMetadata(null, null, List.of("x".repeat(65)), null).validated())
                .isInstanceOf(ApiProblem.class);
        assertThatThrownBy(() -> new UploadMetadata(null, null, Collections.singletonList(null), null).validated())
                .isInstanceOf(ApiProblem.class);
    }

    @Test
    void refuses_more_than_fifty_tags_too_long_fields_and_a_malformed_checksum() {
        List<String> tags = java.util.stream.IntStream.range(0, 51).mapToObj(i -> "t" + i).toList();
        assertThatThrownBy(() -> new UploadMetadata(null, null, tags, null).validated()).hasMessageContaining("50");
        assertThatThrownBy(() -> new UploadMetadata("n".repeat(256), null, null, null).validated())
                .hasMessageContaining("name");
        assertThatThrownBy(() -> new UploadMetadata(null, "d".repeat(4001), null, null).validated())
                .hasMessageContaining("description");
        assertThatThrownBy(() -> new UploadMetadata(null, null, null, "xyz").validated()).hasMessageContaining("sha256");
        assertThatThrownBy(() -> new UploadMetadata("a\u0000b", null, null, null).validated())
                .hasMessageContaining("control");
    }
}
