package org.patientimages.metadata;

import org.junit.jupiter.api.Test;
import org.patientimages.localstack.testing.TestHttp;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.test.context.EmbeddedKafka;
import tools.jackson.databind.JsonNode;

import java.util.Map;
import java.util.UUID;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** The duplicate policy SKIP, against a real PostgreSQL and a real Kafka broker. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "patient-images.duplicates.policy=skip")
@EmbeddedKafka(bootstrapServersProperty = "spring.kafka.bootstrap-servers")
@Import(QuickKafkaClose.class)
class DuplicateSkipIT extends RealPostgres {

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;

    @Test
    void the_same_bytes_again_end_at_once_with_the_earlier_image_and_nothing_new() {
        TestHttp http = new TestHttp("http://127.0.0.1:" + port);
        String patient = Uploads.aPatient(http);
        Map<String, Object> first = Uploads.anUpload(patient, null);
        http.postJson("/internal/v1/uploads", first);
        String firstImage = first.get("imageId").toString();

        // while the first is still in flight, the same bytes are stored again, flagged
        Map<String, Object> early = Uploads.anUpload(patient, null);
        early.put("sha256", first.get("sha256"));
        JsonNode flagged = http.postJson("/internal/v1/uploads", early).json();
        assertThat(flagged.path("status").asString()).isEqualTo("QUEUED");
        assertThat(flagged.path("duplicateOf").asString()).isEqualTo(firstImage);

        // once it is AVAILABLE, they are skipped: same image, job done, no image row, nothing to publish
        jdbc.sql("update images set status = 'AVAILABLE' where id = ?").param(UUID.fromString(firstImage)).update();
        long imagesBefore = jdbc.sql("select count(*) from images").query(Long.class).single();
        long outboxBefore = jdbc.sql("select count(*) from outbox").query(Long.class).single();
        Map<String, Object> again = Uploads.anUpload(patient, "retry-" + UUID.randomUUID());
        again.put("sha256", first.get("sha256"));
        var answer = http.postJson("/internal/v1/uploads", again);
        assertThat(answer.status()).isEqualTo(201);
        assertThat(answer.json().path("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(answer.json().path("imageId").asString()).isEqualTo(firstImage);
        assertThat(answer.json().path("duplicateOf").asString()).isEqualTo(firstImage);
        assertThat(jdbc.sql("select count(*) from images").query(Long.class).single()).isEqualTo(imagesBefore);
        assertThat(jdbc.sql("select count(*) from outbox").query(Long.class).single()).isLessThanOrEqualTo(outboxBefore);

        String jobId = again.get("jobId").toString();
        JsonNode job = http.get("/internal/v1/jobs/" + jobId).json();
        assertThat(job.path("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(job.path("imageId").asString()).isEqualTo(firstImage);
        assertThat(StreamSupport.stream(http.get("/internal/v1/jobs/" + jobId + "/events").json().path("items")
                .spliterator(), false).map(e -> e.path("type").asString()).toList()).containsExactly("ACCEPTED", "SUCCEEDED");

        // a retry with the same idempotency key gets the same answer
        JsonNode replay = http.get("/internal/v1/uploads?patientId=" + patient + "&idempotencyKey="
                + again.get("idempotencyKey")).json();
        assertThat(replay.path("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(replay.path("imageId").asString()).isEqualTo(firstImage);
        assertThat(replay.path("duplicateOf").asString()).isEqualTo(firstImage);
    }
}
