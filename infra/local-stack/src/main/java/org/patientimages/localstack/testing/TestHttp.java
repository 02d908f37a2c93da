package org.patientimages.localstack.testing;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A small HTTP client for tests that drive the services from outside, as a client would. */
public final class TestHttp {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    private final String base;
    private final String bearer;

    public TestHttp(String base) {
        this(base, null);
    }

    private TestHttp(String base, String bearer) {
        this.base = base;
        this.bearer = bearer;
    }

    /** The same client, sending this access token with every request (null: none). */
    public TestHttp withToken(String accessToken) {
        return new TestHttp(base, accessToken);
    }

    /** One answer: status, headers and body. */
    public record Answer(int status, HttpResponse<byte[]> raw) {
        public String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        public String contentType() {
            return header("Content-Type");
        }

        public byte[] bytes() {
            return raw.body();
        }

        public String text() {
            return new String(raw.body(), StandardCharsets.UTF_8);
        }

        public JsonNode json() {
            return JSON.readTree(raw.body());
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    /** A GET, with extra headers as name, value, name, value... */
    public Answer get(String path, String... headers) {
        return send(withHeaders(HttpRequest.newBuilder(uri(path)).GET(), headers));
    }

    /** A POST of a JSON body, with extra headers as name, value, name, value... */
    public Answer postJson(String path, Object body, String... headers) {
        return send(withHeaders(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body))),
                headers));
    }

    private static HttpRequest.Builder withHeaders(HttpRequest.Builder request, String... headers) {
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return request;
    }

    /** Any method, with a JSON body or none, and extra headers as name, value, name, value... */
    public Answer send(String method, String path, Object body, String... headers) {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body instanceof String s ? s : JSON.writeValueAsString(body));
        var request = withHeaders(HttpRequest.newBuilder(uri(path)).method(method, publisher), headers);
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        return send(request);
    }

    /** A multipart/form-data POST; the file is streamed from disk. */
    public Answer postMultipart(String path, List<Part> parts, String... headers) {
        return postParts(path, "multipart/form-data", parts, headers);
    }

    /**
     * A {@code multipart/related} POST of parts of the root {@code type} (a DICOMweb store): each part with its
     * own {@code Content-Type} when it has one, and no name.
     */
    public Answer postRelated(String path, String type, List<Part> parts, String... headers) {
        return postParts(path, "multipart/related; type=\"" + type + "\"", parts, headers);
    }

    private Answer postParts(String path, String mediaType, List<Part> parts, String... headers) {
        String boundary = "----test" + UUID.randomUUID();
        List<HttpRequest.BodyPublisher> body = new ArrayList<>();
        try {
            for (Part part : parts) {
                StringBuilder head = new StringBuilder("--").append(boundary).append("\r\n");
                if (part.name() != null) {
                    head.append("Content-Disposition: form-data; name=\"").append(part.name()).append('"');
                    if (part.filename() != null) {
                        head.append("; filename=\"").append(part.filename()).append('"');
                    }
                    head.append("\r\n");
                }
                if (part.contentType() != null) {
                    head.append("Content-Type: ").append(part.contentType()).append("\r\n");
                }
                body.add(HttpRequest.BodyPublishers.ofString(head.append("\r\n").toString()));
                body.add(part.file() != null ? HttpRequest.BodyPublishers.ofFile(part.file())
                        : HttpRequest.BodyPublishers.ofByteArray(part.bytes()));
                body.add(HttpRequest.BodyPublishers.ofString("\r\n"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        body.add(HttpRequest.BodyPublishers.ofString("--" + boundary + "--\r\n"));
        return send(withHeaders(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", mediaType + "; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(body.toArray(HttpRequest.BodyPublisher[]::new))), headers));
    }

    /** One part of a multipart body: bytes in memory or a file on disk. */
    public record Part(String name, String filename, String contentType, byte[] bytes, Path file) {
        public static Part file(Path file, String filename, String contentType) {
            return new Part("file", filename, contentType, null, file);
        }

        public static Part bytes(String name, String filename, String contentType, byte[] bytes) {
            return new Part(name, filename, contentType, bytes, null);
        }

        public static Part json(String name, Object value) {
            return new Part(name, null, "application/json",
                    (value instanceof String s ? s : JSON.writeValueAsString(value)).getBytes(StandardCharsets.UTF_8),
                    null);
        }
    }

    private URI uri(String path) {
        return URI.create(path.startsWith("http") ? path : base + path);
    }

    private Answer send(HttpRequest.Builder request) {
        try {
            if (bearer != null) {
                request.setHeader("Authorization", "Bearer " + bearer);
            }
            HttpResponse<byte[]> response = client.send(request.timeout(Duration.ofMinutes(2)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(response.statusCode(), response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
