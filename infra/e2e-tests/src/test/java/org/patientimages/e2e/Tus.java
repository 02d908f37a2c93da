package org.patientimages.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Requests of the tus protocol, as a tus client sends them, to a gateway. */
final class Tus {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private Tus() {
    }

    /** {@code body} null for none; a body goes as {@code application/offset+octet-stream}. */
    static HttpResponse<byte[]> send(ServiceProcess gateway, String token, String method, String path, byte[] body,
                                     String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gateway.url() + path))
                .header("Authorization", "Bearer " + token).header("Tus-Resumable", "1.0.0")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            request.header("Content-Type", "application/offset+octet-stream");
        }
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A new upload of {@code length} bytes for the patient; its path, /v1/uploads/{id}. */
    static String create(ServiceProcess gateway, String token, String patientId, long length)
            throws IOException, InterruptedException {
        HttpResponse<byte[]> created = send(gateway, token, "POST", "/v1/patients/" + patientId + "/uploads", null,
                "Upload-Length", Long.toString(length));
        if (created.statusCode() != 201) {
            throw new AssertionError("creating an upload: " + created.statusCode() + " "
                    + new String(created.body(), StandardCharsets.UTF_8));
        }
        return created.headers().firstValue("Location").orElseThrow();
    }

    static String base64(String value) {
        return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
    }
}
