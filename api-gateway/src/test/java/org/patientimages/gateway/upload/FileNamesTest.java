package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class FileNamesTest {

    @Test
    void keeps_an_ordinary_name() {
        assertThat(FileNames.sanitise("knee MRI 2026.dcm")).isEqualTo("knee MRI 2026.dcm");
    }

    @Test
    void drops_every_path_component() {
        assertThat(FileNames.sanitise("../../etc/passwd")).isEqualTo("passwd");
        assertThat(FileNames.sanitise("C:\\Windows\\system32\\cmd.exe")).isEqualTo("cmd.exe");
        assertThat(FileNames.sanitise("\\\\server\\share\\scan.png")).isEqualTo("scan.png");
        assertThat(FileNames.sanitise("/absolute/path.jpg")).isEqualTo("path.jpg");
        assertThat(FileNames.sanitise("..")).isNull();
        assertThat(FileNames.sanitise(".hidden")).isEqualTo("hidden");
    }

    @Test
    void removes_control_characters_nul_and_bidi_overrides() {
        assertThat(FileNames.sanitise("scan\r\nINFO forged log line.png")).isEqualTo("scanINFO forged log line.png");
        assertThat(FileNames.sanitise("a\u0000b.png")).isEqualTo("ab.png");
        assertThat(FileNames.sanitise("invoice\u202Egnp.exe")).isEqualTo("invoicegnp.exe");
    }

    @Test
    void cuts_long_names_to_255_bytes_of_utf8_on_a_character_boundary() {
        String name = FileNames.sanitise("é".repeat(300));
        assertThat(name.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(255);
        assertThat(name).matches("é+");
    }

    @Test
    void nothing_usable_is_null() {
        assertThat(FileNames.sanitise(null)).isNull();
        assertThat(FileNames.sanitise("   ")).isNull();
        assertThat(FileNames.sanitise("/")).isNull();
    }
}
