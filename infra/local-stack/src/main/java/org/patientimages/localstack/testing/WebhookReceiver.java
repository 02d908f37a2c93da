package org.patientimages.localstack.testing;

import com.sun.net.httpserver.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A webhook's receiver for tests and {@code ./dev webhook-receiver}: an HTTP server on the loopback interface that
 * keeps every request it is sent and answers {@code 204}, or, for a path, the statuses it was told to answer first.
 */
public final class WebhookReceiver implements AutoCloseable {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** A request as it came: its path, the Standard Webhooks headers and the body. */
    public record Request(String path, String id, String timestamp, String signature, byte[] body) {

        public JsonNode json() {
            return JSON.readTree(body);
        }

        /** The changes it carried: {@code data.changes}. */
        public List<JsonNode> changes() {
            List<JsonNode> changes = new ArrayList<>();
            json().path("data").path("changes").forEach(changes::add);
            return changes;
        }

        /** The signatures it carried (more than one while a rotated secret still signs). */
        public List<String> signatures() {
            return signature == null ? List.of() : List.of(signature.split(" "));
        }

        /** Whether one of its signatures is the one this secret makes (computed here, as a receiver's library does). */
        public boolean signedWith(String secret) {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(Base64.getDecoder().decode(secret.substring("whsec_".length())),
                        "HmacSHA256"));
                mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
                return signatures().contains("v1," + Base64.getEncoder().encodeToString(mac.doFinal(body)));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private final HttpServer server;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, ConcurrentLinkedDeque<Integer>> scripted = new ConcurrentHashMap<>();

    /** A receiver on a free port that keeps what it is sent. */
    public WebhookReceiver() {
        this(0, request -> { });
    }

    /** A receiver on {@code port} (0: a free one) that also hands each request to {@code onRequest}. */
    public WebhookReceiver(int port, Consumer<Request> onRequest) {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            try (exchange) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                String path = exchange.getRequestURI().getPath();
                var headers = exchange.getRequestHeaders();
                Request request = new Request(path, headers.getFirst("webhook-id"),
                        headers.getFirst("webhook-timestamp"), headers.getFirst("webhook-signature"), body);
                requests.add(request);
                onRequest.accept(request);
                Integer status = scripted.getOrDefault(path, new ConcurrentLinkedDeque<>()).poll();
                exchange.sendResponseHeaders(status == null ? 204 : status, -1);
            }
        });
        server.start();
    }

    /** The URL of a path of this receiver. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** Requests to {@code path} are answered with these statuses first, in order, then {@code 204} again. */
    public void answer(String path, Integer... statuses) {
        scripted.computeIfAbsent(path, p -> new ConcurrentLinkedDeque<>()).addAll(List.of(statuses));
    }

    /** The requests sent to {@code path} so far, in the order they came. */
    public List<Request> requests(String path) {
        return requests.stream().filter(r -> r.path().equals(path)).toList();
    }

    /** The changes sent to {@code path} in requests it took (answered 2xx is not known here: all of them). */
    public List<JsonNode> changes(String path) {
        return requests(path).stream().flatMap(r -> r.changes().stream()).toList();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
