package org.patientimages.metadata.webhook;

import com.sun.net.httpserver.HttpServer;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CheckedAddressesTest {

    /** A DNS whose answers for any name are given in turn: what a name rebound between two lookups looks like. */
    private static DnsResolver answering(String... answers) {
        Deque<String> next = new ArrayDeque<>(List.of(answers));
        return new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                String[] addresses = next.removeFirst().split(",");
                InetAddress[] resolved = new InetAddress[addresses.length];
                for (int i = 0; i < addresses.length; i++) {
                    resolved[i] = InetAddress.getByName(addresses[i]);
                }
                return resolved;
            }

            @Override
            public String resolveCanonicalHostname(String host) {
                return host;
            }
        };
    }

    @Test
    void a_name_is_refused_for_the_addresses_it_resolves_to_each_time_it_is_resolved() throws Exception {
        CheckedAddresses rebound = new CheckedAddresses(answering("203.0.113.7", "127.0.0.1"), false);
        assertThat(rebound.resolve("hooks.example")).containsExactly(InetAddress.getByName("203.0.113.7"));
        assertThatThrownBy(() -> rebound.resolve("hooks.example"))
                .isInstanceOf(CheckedAddresses.RefusedHostException.class)
                .hasMessage("the host's address may not name this host");
        assertThatThrownBy(() -> new CheckedAddresses(answering("203.0.113.7,169.254.169.254"), true)
                .resolve("hooks.example")).isInstanceOf(CheckedAddresses.RefusedHostException.class)
                .hasMessageContaining("link-local");
        assertThat(new CheckedAddresses(answering("127.0.0.1"), true).resolve("localhost"))
                .containsExactly(InetAddress.getByName("127.0.0.1"));
    }

    @Test
    void the_webhook_client_connects_to_no_address_it_refused() throws Exception {
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        AtomicInteger received = new AtomicInteger();
        receiver.createContext("/hook", exchange -> {
            received.incrementAndGet();
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        String url = "http://localhost:" + receiver.getAddress().getPort() + "/hook";
        try (CloseableHttpClient refusing = WebhookDelivery.client(properties(false));
             CloseableHttpClient allowing = WebhookDelivery.client(properties(true))) {
            assertThatThrownBy(() -> refusing.execute(new HttpPost(url), response -> response.getCode()))
                    .isInstanceOf(CheckedAddresses.RefusedHostException.class);
            assertThat(received).hasValue(0);
            int status = allowing.execute(new HttpPost(url), response -> response.getCode());
            assertThat(status).isEqualTo(204);
            assertThat(received).hasValue(1);
        } finally {
            receiver.stop(0);
        }
    }

    private static WebhookProperties properties(boolean allowLoopback) {
        return new WebhookProperties(true, Duration.ofSeconds(1), 2, 100, Duration.ofSeconds(5),
                Duration.ofMinutes(10), allowLoopback, Duration.ofHours(24), null, List.of());
    }
}
