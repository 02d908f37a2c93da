package org.patientimages.metadata;

import org.junit.jupiter.api.BeforeEach;
import org.patientimages.localstack.testing.TestHttp;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Integration tests extend this to call the metadata-service as it runs: on a random port, against the real
 * PostgreSQL and an embedded Kafka broker (one application context, shared by every such class), through
 * {@link #http}, with the broker, a producer and the database at hand.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(QuickKafkaClose.class)
@EmbeddedKafka(bootstrapServersProperty = "spring.kafka.bootstrap-servers")
public abstract class RunningService extends RealPostgres {

    @LocalServerPort
    protected int port;
    @Autowired
    protected EmbeddedKafkaBroker broker;
    @Autowired
    protected KafkaTemplate<String, byte[]> kafka;
    @Autowired
    protected JdbcClient jdbc;

    protected TestHttp http;

    /** The {@code field} of each item of a list's page, in order (the ids of a page of images, patients…). */
    protected static List<String> itemIds(JsonNode page, String field) {
        List<String> ids = new ArrayList<>();
        page.path("items").forEach(item -> ids.add(item.path(field).asString()));
        return ids;
    }

    @BeforeEach
    protected void client() {
        http = new TestHttp("http://127.0.0.1:" + port);
    }
}
