package org.patientimages.metadata.audit;

import io.micrometer.core.instrument.MeterRegistry;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The audit trail: the gateway appends one record per call on patient data (allowed or denied); auditors read
 * it newest first. The table is append-only: the application's database role may not change or delete a row,
 * and a trigger refuses it to anyone.
 */
@RestController
class AuditController {

    private static final RowMapper<AuditRecord> RECORD = (rs, i) -> new AuditRecord(
            rs.getObject("id", UUID.class), rs.getTimestamp("at").toInstant(), rs.getString("actor"),
            rs.getString("roles"), rs.getString("action"), rs.getString("outcome"), rs.getInt("status"),
            rs.getObject("patient_id", UUID.class), rs.getString("resource_type"), rs.getString("resource_id"),
            rs.getString("client_address"), rs.getString("request_id"), rs.getObject("related_patient_id", UUID.class));

    private final JdbcClient jdbc;
    private final JdbcTemplate jdbcTemplate;
    private final MeterRegistry registry;

    AuditController(JdbcClient jdbc, JdbcTemplate jdbcTemplate, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.jdbcTemplate = jdbcTemplate;
        this.registry = registry;
    }

    record Batch(List<AuditRecord> records) {
    }

    /** Appends records in one transaction; a record whose id is already there (a batch sent again) is skipped. */
    @PostMapping("/internal/v1/audit")
    @Transactional
    ResponseEntity<Void> append(@RequestBody Batch batch) {
        if (batch.records() == null || batch.records().isEmpty() || batch.records().size() > 1000) {
            throw ApiException.badRequest("INVALID_AUDIT_RECORD", "Send 1 to 1000 records.");
        }
        List<Object[]> rows = new ArrayList<>(batch.records().size());
        for (AuditRecord record : batch.records()) {
            AuditRecord r = record.validated();
            rows.add(new Object[]{r.id(), Timestamps.sql(r.at()), r.actor(), r.roles(), r.action(), r.outcome(), r.status(),
                    r.patientId(), r.resourceType(), r.resourceId(), r.clientAddress(), r.requestId(),
                    r.relatedPatientId()});
            registry.counter("audit.records", "outcome", r.outcome()).increment();
        }
        jdbcTemplate.batchUpdate("""
                insert into audit_log (id, at, actor, roles, action, outcome, status, patient_id, resource_type,
                                       resource_id, client_address, request_id, related_patient_id)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (id) do nothing""", rows);
        return ResponseEntity.status(HttpStatus.CREATED).build();
    }

    @GetMapping("/internal/v1/audit")
    Page<AuditRecord.View> search(@RequestParam(required = false) String actor,
                                  @RequestParam(required = false) String patientId,
                                  @RequestParam(required = false) String action,
                                  @RequestParam(required = false) String from,
                                  @RequestParam(required = false) String to,
                                  @RequestParam(required = false) Integer limit,
                                  @RequestParam(required = false) String cursor) {
        int n = Paging.limit(limit);
        StringBuilder sql = new StringBuilder("select * from audit_log where true");
        List<Object> params = new ArrayList<>();
        if (actor != null) {
            sql.append(" and actor = ?");
            params.add(actor);
        }
        if (patientId != null) {
            // the patient's own records and those of calls that concerned it as a second patient
            sql.append(" and (patient_id = ? or related_patient_id = ?)");
            UUID patient = Ids.parse(patientId).orElseThrow(
                    () -> ApiException.badRequest("INVALID_PARAMETER", "patientId must be a patient id."));
            params.add(patient);
            params.add(patient);
        }
        if (action != null) {
            sql.append(" and action = ?");
            params.add(action);
        }
        Instant fromAt = instant("from", from);
        Instant toAt = instant("to", to);
        if (fromAt != null) {
            sql.append(" and at >= ?");
            params.add(Timestamps.sql(fromAt));
        }
        if (toAt != null) {
            sql.append(" and at < ?");
            params.add(Timestamps.sql(toAt));
        }
        Paging.Key after = Paging.after(cursor);
        if (after != null) {
            sql.append(" and (at, id) < (?, ?)");
            params.add(Timestamps.sql(after.at()));
            params.add(after.id());
        }
        sql.append(" order by at desc, id desc limit ?");
        params.add(n + 1);
        Page<AuditRecord> page = Paging.page(jdbc.sql(sql.toString()).params(params).query(RECORD).list(), n,
                r -> Paging.cursor(r.at(), r.id()));
        return new Page<>(page.items().stream().map(AuditRecord::view).toList(), page.nextCursor());
    }

    private static Instant instant(String name, String value) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest("INVALID_PARAMETER", name + " must be an RFC 3339 time, e.g. 2026-01-31T00:00:00Z.");
        }
    }
}
