package org.patientimages.metadata.outbox;

import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.time.Instant;
import java.util.List;

@Repository
public class OutboxRepository {

    private final JdbcClient jdbc;

    OutboxRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    record Message(long id, String topic, String key, byte[] payload, String requestId) {
    }

    /** Adds a message in the caller's transaction. */
    public void add(String topic, String key, byte[] payload, Instant at) {
        jdbc.sql("insert into outbox (topic, message_key, payload, created_at, request_id) values (?, ?, ?, ?, ?)")
                .params(topic, key, payload, Timestamps.sql(at), org.slf4j.MDC.get("requestId"))
                .update();
    }

    /** The oldest messages, locked for this transaction; other relays skip them. */
    List<Message> lockOldest(int limit) {
        return jdbc.sql("select id, topic, message_key, payload, request_id from outbox order by id limit ? for update skip locked")
                .param(limit)
                .query((rs, i) -> new Message(rs.getLong("id"), rs.getString("topic"), rs.getString("message_key"),
                        rs.getBytes("payload"), rs.getString("request_id")))
                .list();
    }

    void delete(List<Message> messages) {
        Long[] ids = messages.stream().map(Message::id).toArray(Long[]::new);
        jdbc.sql("delete from outbox where id = any(?)").param(ids).update();
    }
}
