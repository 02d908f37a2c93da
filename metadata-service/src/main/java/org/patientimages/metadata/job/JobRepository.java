package org.patientimages.metadata.job;

import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

@Repository
public class JobRepository {

    private static final RowMapper<Job> JOB = (rs, i) -> {
        String errorCode = rs.getString("error_code");
        return new Job(rs.getString("id"), rs.getString("type"), JobStatus.valueOf(rs.getString("status")),
                rs.getString("patient_id"), rs.getString("image_id"), rs.getInt("progress"), rs.getInt("attempts"),
                Timestamps.format(rs.getTimestamp("created_at")), Timestamps.format(rs.getTimestamp("updated_at")),
                errorCode == null ? null
                        : new Job.Error(errorCode, rs.getString("error_message"), rs.getBoolean("error_retryable")));
    };

    private final JdbcClient jdbc;

    JobRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public Optional<Job> find(UUID jobId) {
        return jdbc.sql("select * from jobs where id = ?").param(jobId).query(JOB).optional();
    }

    public Optional<Job> findByIdempotencyKey(UUID patientId, String key) {
        return jdbc.sql("select * from jobs where patient_id = ? and idempotency_key = ?")
                .params(patientId, key).query(JOB).optional();
    }

    /** A new job, QUEUED, counting one event: its ACCEPTED event, which the caller inserts next as event 1. */
    public void insert(UUID jobId, UUID patientId, UUID imageId, String stagingKey, String idempotencyKey,
                       Instant at) {
        jdbc.sql("""
                insert into jobs (id, type, status, patient_id, image_id, staging_key, idempotency_key,
                                  created_at, updated_at, event_count)
                values (?, 'UPLOAD', 'QUEUED', ?, ?, ?, ?, ?, ?, 1)""")
                .params(jobId, patientId, imageId, stagingKey, idempotencyKey, Timestamps.sql(at), Timestamps.sql(at))
                .update();
    }

    /** Locks the job for the rest of the transaction and reads what its facts change. */
    Optional<LockedJob> lock(UUID jobId) {
        return jdbc.sql("""
                select j.status, j.progress, j.attempts, j.event_count, j.image_id, i.object_key is not null as stored
                from jobs j join images i on i.id = j.image_id
                where j.id = ? for update of j""")
                .param(jobId)
                .query((rs, i) -> new LockedJob(
                        new JobState(JobStatus.valueOf(rs.getString("status")), rs.getInt("progress"),
                                rs.getInt("attempts"), rs.getBoolean("stored")),
                        rs.getInt("event_count"), rs.getObject("image_id", UUID.class)))
                .optional();
    }

    record LockedJob(JobState state, int eventCount, UUID imageId) {
    }

    void update(UUID jobId, JobState next, JobFact.Failed failure, Instant at) {
        jdbc.sql("""
                update jobs set status = ?, progress = ?, attempts = ?, event_count = event_count + 1,
                                error_code = coalesce(?, error_code), error_message = coalesce(?, error_message),
                                error_retryable = coalesce(?, error_retryable), updated_at = ?
                where id = ?""")
                .params(next.status().name(), next.progress(), next.attempts(),
                        failure == null ? null : failure.code(), failure == null ? null : failure.message(),
                        failure == null ? null : failure.retryable(), Timestamps.sql(at), jobId)
                .update();
    }

    public boolean eventRecorded(UUID eventId) {
        return jdbc.sql("select count(*) from job_events where event_id = ?").param(eventId)
                .query(Long.class).single() > 0;
    }

    public void insertEvent(UUID jobId, int seq, UUID eventId, String type, Instant at, String detailJson) {
        jdbc.sql("insert into job_events (job_id, seq, event_id, type, at, detail) values (?, ?, ?, ?, ?, ?::jsonb)")
                .params(jobId, seq, eventId, type, Timestamps.sql(at), detailJson)
                .update();
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
