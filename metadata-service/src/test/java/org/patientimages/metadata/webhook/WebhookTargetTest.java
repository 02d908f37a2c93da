package org.patientimages.metadata.webhook;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.web.ApiException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WebhookTargetTest {

    @Test
    void an_absolute_http_or_https_url_of_another_host_is_taken() {
        assertThat(WebhookTarget.parse("https://pacs-bridge.hospital.example/hooks/images?x=1", false))
                .hasHost("pacs-bridge.hospital.example");
        assertThat(WebhookTarget.parse("http://10.1.2.3:8080/hook", false)).hasPort(8080);
    }

    @Test
    void urls_that_are_not_a_place_to_send_to_are_refused() {
        for (String url : new String[] {null, " ", "ftp://host/x", "/relative", "https://", "mailto:a@b.example",
                "https://user:pw@host.example/x", "https://host.example/x#part", "http://h.example/" + "a".repeat(2000),
                "http://bad host/"}) {
            assertThatThrownBy(() -> WebhookTarget.parse(url, false)).as(url).isInstanceOf(ApiException.class)
                    .extracting("code").isEqualTo("INVALID_WEBHOOK");
        }
    }

    @Test
    void this_host_is_refused_unless_allowed_and_link_local_wildcard_and_multicast_addresses_always() {
        for (String url : new String[] {"http://127.0.0.1:9798/internal/v1/jobs", "http://localhost/x",
                "http://[::1]/x"}) {
            assertThatThrownBy(() -> WebhookTarget.parse(url, false)).as(url).isInstanceOf(ApiException.class);
            assertThat(WebhookTarget.parse(url, true)).as(url).isNotNull();
        }
        for (String url : new String[] {"http://169.254.169.254/latest/meta-data", "http://0.0.0.0/x",
                "http://224.0.0.1/x", "http://[fe80::1]/x"}) {
            assertThatThrownBy(() -> WebhookTarget.parse(url, true)).as(url).isInstanceOf(ApiException.class)
                    .hasMessageContaining("link-local");
        }
    }
}
