package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UploadMetadataTest {

    @Test
    void trims_text_and_normalises_the_checksum() {
        var m = new UploadMetadata(" Knee ", "", List.of("MRI"), "AB".repeat(32)).validated();
        assertThat(m.name()).isEqualTo("Knee");
        assertThat(m.description()).isNull();
        assertThat(m.tags()).containsExactly("MRI"); // tags are the metadata-service's to check
        assertThat(m.sha256()).isEqualTo("ab".repeat(32));
    }

    @Test
    void refuses_too_long_fields_control_characters_and_a_malformed_checksum() {
        assertThatThrownBy(() -> new UploadMetadata("n".repeat(256), null, null, null).validated())
                .hasMessageContaining("name");
        assertThatThrownBy(() -> new UploadMetadata(null, "d".repeat(4001), null, null).validated())
                .hasMessageContaining("description");
        assertThatThrownBy(() -> new UploadMetadata(null, null, null, "xyz").validated()).hasMessageContaining("sha256");
        assertThatThrownBy(() -> new UploadMetadata("a\u0000b", null, null, null).validated())
                .hasMessageContaining("control");
    }
}
