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

    @BeforeEach
    protected void client() {
        http = new TestHttp("http://127.0.0.1:" + port);
    }
}
