package org.patientimages.metadata.patient;

import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

@Repository
public class PatientRepository {

    private static final RowMapper<Row> ROW = (rs, i) -> new Row(
            rs.getObject("id", UUID.class), rs.getString("name"), rs.getString("username"),
            rs.getTimestamp("created_at").toInstant());

    private final JdbcClient jdbc;

    PatientRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    record Row(UUID id, String name, String username, Instant createdAt) {
        Patient toApi() {
            return new Patient(id.toString(), name, username, Timestamps.format(createdAt));
        }

        String cursor() {
            return Paging.cursor(createdAt, id);
        }
    }

    void insert(Row row) {
        jdbc.sql("insert into patients (id, name, username, created_at) values (?, ?, ?, ?)")
                .params(row.id(), row.name(), row.username(), Timestamps.sql(row.createdAt()))
                .update();
    }

    public Optional<Row> find(UUID id) {
        return jdbc.sql("select * from patients where id = ?").param(id).query(ROW).optional();
    }

    public boolean exists(UUID id) {
        return jdbc.sql("select count(*) from patients where id = ?").param(id).query(Long.class).single() > 0;
    }

    List<Row> list(String username, Paging.Key after, int limit) {
        StringBuilder sql = new StringBuilder("select * from patients where true");
        var params = new java.util.ArrayList<Object>();
        if (username != null) {
            sql.append(" and username = ?");
            params.add(username);
        }
        if (after != null) {
            sql.append(" and (created_at, id) > (?, ?)");
            params.add(Timestamps.sql(after.at()));
            params.add(after.id());
        }
        sql.append(" order by created_at, id limit ?");
        params.add(limit + 1);
        return jdbc.sql(sql.toString()).params(params).query(ROW).list();
    }
}
