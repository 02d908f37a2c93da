package org.patientimages.metadata.job;

import org.patientimages.metadata.access.PatientAccess;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

@Repository
public class JobRepository {

    private static final RowMapper<Job> JOB = (rs, i) -> {
        String errorCode = rs.getString("error_code");
        return new Job(rs.getString("id"), rs.getString("type"), JobStatus.valueOf(rs.getString("status")),
                rs.getString("patient_id"), rs.getString("image_id"), rs.getInt("progress"), rs.getInt("attempts"),
                Timestamps.format(rs.getTimestamp("created_at")), Timestamps.format(rs.getTimestamp("updated_at")),
                errorCode == null ? null
                        : new Job.Error(errorCode, rs.getString("error_message"), rs.getBoolean("error_retryable")),
                rs.getString("retry_of"), rs.getString("retried_by"));
    };

    /** A job with the job that retries it, if any (by the unique index on {@code retry_of}). */
    private static final String SELECT = """
            select j.*, (select r.id from jobs r where r.retry_of = j.id) as retried_by from jobs j""";

    private final JdbcClient jdbc;
    private final JdbcTemplate batches;

    JobRepository(JdbcClient jdbc, JdbcTemplate batches) {
        this.jdbc = jdbc;
        this.batches = batches;
    }

    public Optional<Job> find(UUID jobId) {
        return jdbc.sql(SELECT + " where j.id = ?").param(jobId).query(JOB).optional();
    }

    /** A job of a list, with its sort key. */
    record Listed(Job job, Paging.Key key) {
    }

    /**
     * Jobs newest first (by creation, which never changes, so that pages neither skip nor repeat), of a status
     * and/or a patient, only of the patients granted to {@code grantee} when one is named; after the cursor's key.
     */
    List<Listed> list(JobStatus status, UUID patientId, String grantee, Paging.Key after, int limit) {
        StringBuilder sql = new StringBuilder(SELECT + " where true");
        List<Object> params = new ArrayList<>();
        if (status != null) {
            sql.append(" and j.status = ?");
            params.add(status.name());
        }
        if (patientId != null) {
            sql.append(" and j.patient_id = ?");
            params.add(patientId);
        }
        if (grantee != null) {
            sql.append(PatientAccess.GRANTED.formatted("j.patient_id"));
            params.add(grantee);
        }
        if (after != null) {
            sql.append(" and (j.created_at, j.id) < (?, ?)");
            params.add(Timestamps.sql(after.at()));
            params.add(after.id());
        }
        sql.append(" order by j.created_at desc, j.id desc limit ?");
        params.add(limit + 1);
        return jdbc.sql(sql.toString()).params(params).query((rs, i) -> new Listed(JOB.mapRow(rs, i),
                new Paging.Key(rs.getTimestamp("created_at").toInstant(), rs.getObject("id", UUID.class)))).list();
    }

    public Optional<Job> findByIdempotencyKey(UUID patientId, String key) {
        return jdbc.sql(SELECT + " where j.patient_id = ? and j.idempotency_key = ?")
                .params(patientId, key).query(JOB).optional();
    }

    /** A new job, QUEUED, counting one event: its ACCEPTED event, which the caller inserts next as event 1. */
    public void insert(UUID jobId, UUID patientId, UUID imageId, String stagingKey, String idempotencyKey,
                       Instant at) {
        insert(jobId, patientId, imageId, stagingKey, idempotencyKey, null, at);
    }

    /** Like {@link #insert(UUID, UUID, UUID, String, String, Instant)}, for a job that runs {@code retryOf} again. */
    public void insert(UUID jobId, UUID patientId, UUID imageId, String stagingKey, String idempotencyKey,
                       UUID retryOf, Instant at) {
        jdbc.sql("""
                insert into jobs (id, type, status, patient_id, image_id, staging_key, idempotency_key, retry_of,
                                  created_at, updated_at, event_count)
                values (?, 'UPLOAD', 'QUEUED', ?, ?, ?, ?, ?, ?, ?, 1)""")
                .params(jobId, patientId, imageId, stagingKey, idempotencyKey, retryOf, Timestamps.sql(at),
                        Timestamps.sql(at))
                .update();
    }

    /**
     * Locks the jobs for the rest of the transaction, in the order of their ids (so that two transactions
     * locking the same jobs cannot deadlock), and reads what their facts change. Unknown ids are left out.
     */
    Map<UUID, LockedJob> lock(Collection<UUID> jobIds) {
        Map<UUID, LockedJob> locked = new HashMap<>();
        jdbc.sql("""
                select j.id, j.status, j.progress, j.attempts, j.event_count, j.image_id,
                       i.object_key is not null as stored
                from jobs j join images i on i.id = j.image_id
                where j.id = any(?::uuid[]) order by j.id for update of j""")
                .param(jobIds.stream().map(UUID::toString).toArray(String[]::new))
                .query(rs -> {
                    locked.put(rs.getObject("id", UUID.class), new LockedJob(
                            new JobState(JobStatus.valueOf(rs.getString("status")), rs.getInt("progress"),
                                    rs.getInt("attempts"), rs.getBoolean("stored")),
                            rs.getInt("event_count"), rs.getObject("image_id", UUID.class)));
                });
        return locked;
    }

    record LockedJob(JobState state, int eventCount, UUID imageId) {
    }

    /** A job's state after the facts of one transaction: its last failure (if any) and the time of its last fact. */
    record Changed(UUID jobId, JobState state, int eventCount, JobFact.Failed failure, Instant at) {
    }

    /** Writes the jobs' new states, one batch. */
    void update(Collection<Changed> changes) {
        batches.batchUpdate("""
                update jobs set status = ?, progress = ?, attempts = ?, event_count = ?,
                                error_code = coalesce(?, error_code), error_message = coalesce(?, error_message),
                                error_retryable = coalesce(?, error_retryable), updated_at = ?
                where id = ?""", changes.stream().map(c -> new Object[] {
                c.state().status().name(), c.state().progress(), c.state().attempts(), c.eventCount(),
                c.failure() == null ? null : c.failure().code(), c.failure() == null ? null : c.failure().message(),
                c.failure() == null ? null : c.failure().retryable(), Timestamps.sql(c.at()), c.jobId()}).toList());
    }

    /** Which of these event ids are recorded already. */
    Set<UUID> recorded(Collection<UUID> eventIds) {
        return new HashSet<>(jdbc.sql("select event_id from job_events where event_id = any(?::uuid[])")
                .param(eventIds.stream().map(UUID::toString).toArray(String[]::new)).query(UUID.class).list());
    }

    public void insertEvent(UUID jobId, int seq, UUID eventId, String type, Instant at, String detailJson) {
        insertEvents(List.of(new EventRow(jobId, seq, eventId, type, at, detailJson)));
    }

    /** One row of a job's event history. */
    record EventRow(UUID jobId, int seq, UUID eventId, String type, Instant at, String detailJson) {
    }

    /** Appends event rows, one batch. */
    void insertEvents(List<EventRow> rows) {
        batches.batchUpdate(
                "insert into job_events (job_id, seq, event_id, type, at, detail) values (?, ?, ?, ?, ?, ?::jsonb)",
                rows.stream().map(r -> new Object[] {r.jobId(), r.seq(), r.eventId(), r.type(), Timestamps.sql(r.at()),
                        r.detailJson()}).toList());
    }

    List<JobEventView> events(UUID jobId, int afterSeq, int limit) {
        return jdbc.sql("select seq, type, at, detail::text as detail from job_events"
                        + " where job_id = ? and seq > ? order by seq limit ?")
                .params(jobId, afterSeq, limit + 1)
                .query((rs, i) -> new JobEventView(rs.getInt("seq"), rs.getString("type"),
                        Timestamps.format(rs.getTimestamp("at")), rs.getString("detail")))
                .list();
    }
}
