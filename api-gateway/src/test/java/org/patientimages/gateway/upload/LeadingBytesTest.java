package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

import static org.assertj.core.api.Assertions.assertThat;

class LeadingBytesTest {

    @Test
    void keeps_the_first_bytes_of_what_is_read_through_and_knows_whether_they_are_all() throws IOException {
        byte[] bytes = new byte[100];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        LeadingBytes longer = new LeadingBytes(new ByteArrayInputStream(bytes), 10);
        assertThat(longer.read()).isEqualTo(0);
        assertThat(longer.skip(3)).isEqualTo(3);
        assertThat(longer.readAllBytes()).hasSize(96);
        assertThat(longer.bytes()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(longer.whole()).isFalse();

        LeadingBytes exact = new LeadingBytes(new ByteArrayInputStream(bytes, 0, 10), 10);
        assertThat(exact.readAllBytes()).hasSize(10);
        assertThat(exact.whole()).isTrue();

        LeadingBytes unread = new LeadingBytes(InputStream.nullInputStream(), 10);
        assertThat(unread.whole()).isFalse();
        assertThat(unread.read()).isEqualTo(-1);
        assertThat(unread.whole()).isTrue();
        assertThat(unread.bytes()).isEmpty();
    }
}
