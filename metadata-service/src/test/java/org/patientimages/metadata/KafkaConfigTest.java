package org.patientimages.metadata;

import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.kafka.listener.ListenerExecutionFailedException;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaConfigTest {

    @Test
    void a_failed_attempt_is_logged_by_its_innermost_cause_and_sqlstate_without_the_message() {
        var sql = new SQLException("duplicate key: Key (name)=(Jane Doe) already exists", "23505");
        var failure = new ListenerExecutionFailedException("listener failed",
                new DataIntegrityViolationException("insert into ...", sql));
        assertThat(KafkaConfig.cause(failure)).isEqualTo("java.sql.SQLException (SQLSTATE 23505)");
    }

    @Test
    void a_failure_from_elsewhere_is_logged_by_its_innermost_class() {
        var failure = new ListenerExecutionFailedException("listener failed", new IllegalStateException("x",
                new java.net.ConnectException("refused")));
        assertThat(KafkaConfig.cause(failure)).isEqualTo("java.net.ConnectException");
    }
}
