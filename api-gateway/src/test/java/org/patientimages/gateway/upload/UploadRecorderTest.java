package org.patientimages.gateway.upload;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.metadata.MetadataClients;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.util.unit.DataSize;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What becomes of a staged file once its registration was sent: the metadata-service is played by a socket that
 * reads each request whole and then answers as a test tells it, or not at all.
 */
class UploadRecorderTest {

    private static final String PATIENT = "0b5e0f8e-4f6b-4d43-9d4a-0d2f6d7c1a11";

    @TempDir
    Path root;

    private ServerSocket peer;
    private final AtomicInteger requests = new AtomicInteger();

    @AfterEach
    void closePeer() throws IOException {
        if (peer != null) {
            peer.close();
        }
    }

    @Test
    void a_queued_job_keeps_its_staged_file() throws Exception {
        UploadRecorder recorder = recorder(answering("200 OK", "{\"jobId\":\"j\",\"status\":\"QUEUED\"}"));
        StagingArea.Staged staged = staged("k1");

        assertThat(record(recorder, staged).path("status").asString()).isEqualTo("QUEUED");
        assertThat(root.resolve("k1")).exists();
    }

    @Test
    void a_replay_or_a_job_failed_on_arrival_or_a_refusal_lets_it_go() throws Exception {
        StagingArea.Staged replayed = staged("k2");
        record(recorder(answering("200 OK", "{\"status\":\"QUEUED\",\"replayed\":true}")), replayed);
        assertThat(root.resolve("k2")).doesNotExist();
        closePeer();

        StagingArea.Staged mismatch = staged("k3");
        record(recorder(answering("202 Accepted", "{\"status\":\"FAILED\"}")), mismatch);
        assertThat(root.resolve("k3")).doesNotExist();
        closePeer();

        StagingArea.Staged refused = staged("k4");
        UploadRecorder refusing = recorder(answering("404 Not Found",
                "{\"code\":\"PATIENT_NOT_FOUND\",\"detail\":\"gone\",\"retryable\":false}"));
        assertThatThrownBy(() -> record(refusing, refused)).isInstanceOfSatisfying(ApiProblem.class,
                e -> assertThat(e.code()).isEqualTo("PATIENT_NOT_FOUND"));
        assertThat(root.resolve("k4")).doesNotExist();
    }

    @Test
    void a_service_that_cannot_be_reached_or_answers_5xx_did_not_record_it_so_it_goes() throws Exception {
        int closedPort;
        try (ServerSocket gone = new ServerSocket(0)) {
            closedPort = gone.getLocalPort();
        }
        StagingArea.Staged staged = staged("k5");
        UploadRecorder nobody = recorder(URI.create("http://127.0.0.1:" + closedPort));
        assertThatThrownBy(() -> record(nobody, staged)).isInstanceOfSatisfying(ApiProblem.class, e -> {
            assertThat(e).isNotInstanceOf(MetadataClient.AnswerLost.class);
            assertThat(e.status().value()).isEqualTo(503);
            assertThat(e.retryable()).isTrue();
        });
        assertThat(root.resolve("k5")).doesNotExist();

        StagingArea.Staged failing = staged("k6");
        UploadRecorder broken = recorder(answering("500 Internal Server Error", "{}"));
        assertThatThrownBy(() -> record(broken, failing)).isInstanceOf(ApiProblem.class)
                .isNotInstanceOf(MetadataClient.AnswerLost.class);
        assertThat(root.resolve("k6")).doesNotExist();
    }

    @Test
    void an_answer_lost_after_the_request_arrived_keeps_the_file_for_the_job_it_may_have_made() throws Exception {
        UploadRecorder recorder = recorder(answering(null, null));
        StagingArea.Staged staged = staged("k7");

        assertThatThrownBy(() -> record(recorder, staged)).isInstanceOfSatisfying(MetadataClient.AnswerLost.class, e -> {
            assertThat(e.status().value()).isEqualTo(503);
            assertThat(e.code()).isEqualTo("SERVICE_UNAVAILABLE");
            assertThat(e.retryable()).isTrue();
        });
        assertThat(requests).as("the registration arrived").hasValue(1);
        assertThat(root.resolve("k7")).exists();
    }

    @Test
    void the_files_of_an_archive_are_kept_or_let_go_each_by_its_own_answer_and_all_kept_when_the_answer_is_lost()
            throws Exception {
        UploadRecorder recorder = recorder(answering("201 Created",
                "{\"items\":[{\"jobId\":\"a\",\"status\":\"QUEUED\"},{\"jobId\":\"b\",\"status\":\"FAILED\"}]}"));
        var files = List.of(file(staged("a1")), file(staged("a2")));
        var registered = recorder.recordAll(PATIENT, UploadMetadata.NONE, files, "archive-1");
        assertThat(registered).extracting(r -> r.path("jobId").asString()).containsExactly("a", "b");
        assertThat(root.resolve("a1")).exists();
        assertThat(root.resolve("a2")).doesNotExist();
        closePeer();

        UploadRecorder lost = recorder(answering(null, null));
        var kept = List.of(file(staged("b1")), file(staged("b2")));
        assertThatThrownBy(() -> lost.recordAll(PATIENT, UploadMetadata.NONE, kept, null))
                .isInstanceOf(MetadataClient.AnswerLost.class);
        assertThat(root.resolve("b1")).exists();
        assertThat(root.resolve("b2")).exists();
    }

    private static UploadRecorder.File file(StagingArea.Staged staged) {
        return new UploadRecorder.File(UUID.randomUUID(), UUID.randomUUID(), "scan.png", "image/png", staged);
    }

    private static tools.jackson.databind.JsonNode record(UploadRecorder recorder, StagingArea.Staged staged) {
        return recorder.record(PATIENT, UploadMetadata.NONE, file(staged), null);
    }

    private UploadRecorder recorder(URI metadata) throws IOException {
        return new UploadRecorder(MetadataClients.at(metadata, Duration.ofSeconds(5)), staging());
    }

    private StagingArea.Staged staged(String key) throws IOException {
        DirectoryStagingArea staging = staging();
        StagingArea.Staged staged = staging.write(key, new ByteArrayInputStream(new byte[1000]), 1 << 20, h -> { });
        staging.commit(staged);
        return staged;
    }

    private DirectoryStagingArea staging() throws IOException {
        return new DirectoryStagingArea(new StagingArea.StagingProperties(StagingArea.Mode.DIRECTORY, root,
                "unused", DataSize.ofMegabytes(8), Duration.ofHours(1), Duration.ofMinutes(5), DataSize.ofBytes(0)));
    }

    /** A peer that reads one request whole, then sends this status and JSON body, or (status null) hangs up. */
    private URI answering(String status, String body) throws IOException {
        peer = new ServerSocket(0);
        ServerSocket server = peer;
        Thread answer = new Thread(() -> {
            try (Socket socket = server.accept()) {
                readRequest(socket.getInputStream());
                requests.incrementAndGet();
                if (status != null) {
                    byte[] json = body.getBytes(StandardCharsets.UTF_8);
                    OutputStream out = socket.getOutputStream();
                    out.write(("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
                            + json.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(json);
                    out.flush();
                }
            } catch (IOException closed) {
                // the test is over
            }
        });
        answer.setDaemon(true);
        answer.start();
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("request ended early");
            }
            head.append((char) c);
        }
        long length = head.toString().lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).trim())).findFirst().orElse(0);
        in.readNBytes((int) length);
    }
}
