package org.patientimages.gateway.web;

import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;

import static org.assertj.core.api.Assertions.assertThat;

class MediaTypesTest {

    @Test
    void a_parameter_value_with_a_slash_is_quoted_so_that_it_parses_and_quoted_ones_stay_as_they_are() {
        String unquoted = "multipart/related; type=application/dicom; transfer-syntax=*, application/json;q=0.5";
        assertThat(MediaTypes.lenient(unquoted))
                .isEqualTo("multipart/related; type=\"application/dicom\"; transfer-syntax=*, application/json;q=0.5");
        assertThat(MediaType.parseMediaTypes(MediaTypes.lenient(unquoted)).get(0).getParameter("type"))
                .isEqualTo("\"application/dicom\"");
        String quoted = "multipart/related; type=\"application/dicom\"; boundary=abc";
        assertThat(MediaTypes.lenient(quoted)).isEqualTo(quoted);
        assertThat(MediaTypes.lenient("multipart/related; boundary=a/b"))
                .isEqualTo("multipart/related; boundary=\"a/b\"");
        assertThat(MediaTypes.lenient(null)).isNull();
    }
}
