package org.patientimages.metadata.upload;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.access.PatientAccess;
import org.patientimages.metadata.job.Job;
import org.patientimages.metadata.job.JobRepository;
import org.patientimages.metadata.job.JobStatus;
import org.patientimages.metadata.job.RetryWindow;
import org.patientimages.metadata.outbox.OutboxRelay;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Runs a job again that failed for a passing cause: the object store stayed down past the worker's retry budget
 * ({@code STORAGE_UNAVAILABLE}, {@code retryable: true}). The worker keeps the staged bytes of such a job, the
 * gateway's staging sweeper keeps them for the {@link RetryWindow} after the failure, and within
 * that window a retry is a new job of the same image that reads them: nothing has to be sent again. The failed job
 * stays as it ended (a job's status only moves forward); the new one names it in {@code retryOf}.
 */
@Service
public class JobRetry {

    /** The job that runs the failed one again, and whether an earlier request had made it already. */
    public record Retried(Job job, boolean replayed) {
    }

    /** A job as far as retrying it goes: what it ended with, its image and the bytes the retry would read. */
    private record Row(UUID jobId, UUID patientId, UUID imageId, String stagingKey, JobStatus status,
                       String errorCode, boolean errorRetryable, Instant updatedAt, String imageStatus, long sizeBytes,
                       String sha256, String contentType, boolean retried) {
    }

    private static final String ROW = """
            select j.id, j.patient_id, j.image_id, j.staging_key, j.status, j.error_code,
                   coalesce(j.error_retryable, false) as error_retryable, j.updated_at,
                   i.status as image_status, i.size_bytes, i.sha256, i.content_type,
                   exists (select 1 from jobs r where r.retry_of = j.id) as retried
            from jobs j join images i on i.id = j.image_id""";

    private static final RowMapper<Row> ROWS = (rs, n) -> new Row(rs.getObject("id", UUID.class),
            rs.getObject("patient_id", UUID.class), rs.getObject("image_id", UUID.class), rs.getString("staging_key"),
            JobStatus.valueOf(rs.getString("status")), rs.getString("error_code"), rs.getBoolean("error_retryable"),
            rs.getTimestamp("updated_at").toInstant(), rs.getString("image_status"), rs.getLong("size_bytes"),
            rs.getString("sha256").trim(), rs.getString("content_type"), rs.getBoolean("retried"));

    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final JobRepository jobs;
    private final UploadRegistrar registrar;
    private final OutboxRelay relay;
    private final JsonMapper json;
    private final PatientAccess access;
    private final RetryWindow window;

    JobRetry(JdbcClient jdbc, TransactionTemplate tx, JobRepository jobs, UploadRegistrar registrar, OutboxRelay relay,
             JsonMapper json, RetryWindow window, PatientAccess access) {
        this.access = access;
        this.jdbc = jdbc;
        this.tx = tx;
        this.jobs = jobs;
        this.registrar = registrar;
        this.relay = relay;
        this.json = json;
        this.window = window;
    }

    /**
     * A new job, {@code QUEUED}, that reads the failed job's staged bytes: its image is {@code PENDING} again and a
     * worker is told, in one transaction. Asked again, the answer is the same job ({@code replayed}); two requests
     * at once make one job (the failed job's row is locked). {@code 409 JOB_NOT_RETRYABLE} for a job that did not
     * fail, failed for a reason no retry mends, failed longer ago than the window, or whose image was deleted.
     * {@code 404 JOB_NOT_FOUND} for a job that does not exist or whose patient the caller may not see.
     */
    public Retried retry(UUID jobId, Caller caller) {
        Retried retried = tx.execute(status -> {
            // the image too: a deletion waits for the retry (and then finds it busy), or the retry for the deletion
            Row job = jdbc.sql(ROW + " where j.id = ? for update of j, i").param(jobId).query(ROWS).optional()
                    .orElseThrow(() -> notFound(jobId));
            access.require(caller, job.patientId(), () -> notFound(jobId));
            if (job.retried()) {
                UUID earlier = jdbc.sql("select id from jobs where retry_of = ?").param(jobId).query(UUID.class).single();
                return new Retried(jobs.find(earlier).orElseThrow(), true);
            }
            Instant now = Timestamps.now();
            refusal(job, now).ifPresent(reason -> {
                throw new ApiException(HttpStatus.CONFLICT, "JOB_NOT_RETRYABLE", reason, false);
            });
            UUID retry = UUID.randomUUID();
            jobs.insert(retry, job.patientId(), job.imageId(), job.stagingKey(), null, jobId, now);
            Map<String, Object> detail = UploadRegistrar.acceptedDetail(job.sizeBytes(), job.sha256(), job.contentType());
            detail.put("retryOf", jobId.toString());
            jobs.insertEvent(retry, 1, UUID.randomUUID(), "ACCEPTED", now, json.writeValueAsString(detail));
            jdbc.sql("update images set status = 'PENDING' where id = ?").param(job.imageId()).update();
            registrar.publishAccepted(retry, job.imageId(), job.patientId(), job.stagingKey(), job.sizeBytes(),
                    job.sha256(), job.contentType(), now);
            return new Retried(jobs.find(retry).orElseThrow(), false);
        });
        if (!retried.replayed()) {
            relay.wake();
        }
        return retried;
    }

    /** The jobs one call to {@link #retryAll} retried, and whether more await a retry. */
    public record RetriedAll(List<Job> items, boolean more) {
    }

    /**
     * Retries up to {@code limit} of the jobs that can be retried, oldest failure first, each as {@link #retry} does
     * (in its own transaction): after an outage of the object store, one call for all the jobs it failed.
     */
    public RetriedAll retryAll(int limit) {
        List<UUID> due = jdbc.sql("select j.id from jobs j join images i on i.id = j.image_id where "
                        + RetryWindow.AWAITING_RETRY + " order by j.updated_at, j.id limit ?")
                .params(Timestamps.sql(Timestamps.now().minus(window.retryWindow())), limit + 1).query(UUID.class).list();
        List<Job> retried = new ArrayList<>();
        for (UUID jobId : due.subList(0, Math.min(limit, due.size()))) {
            try {
                Retried one = retry(jobId, Caller.SYSTEM);
                if (!one.replayed()) { // another call retried it meanwhile: not this call's
                    retried.add(one.job());
                }
            } catch (ApiException refused) {
                // it cannot be retried any more (its image was deleted meanwhile): not this call's either
            }
        }
        return new RetriedAll(retried, due.size() > limit);
    }

    /**
     * Whether the staged bytes of this key are still to be kept: a job that reads them has not ended, or the last
     * of them failed for a passing cause within the window and may be retried. The key is the id of the job that
     * staged them (its retries read the same key).
     */
    public boolean stagedBytesNeeded(UUID key) {
        Instant now = Timestamps.now();
        return jdbc.sql(ROW + " where j.image_id = (select image_id from jobs where id = ?) and j.staging_key = ?")
                .params(key, key.toString()).query(ROWS).list().stream() // a list: a query's stream holds its connection
                .anyMatch(job -> !job.status().isTerminal() || !job.retried() && refusal(job, now).isEmpty());
    }

    private static ApiException notFound(UUID jobId) {
        return ApiException.notFound("JOB_NOT_FOUND", "No job with id " + jobId + ".");
    }

    private Optional<String> refusal(Row job, Instant now) {
        return window.refusal(job.jobId().toString(), job.status(), job.errorCode(), job.errorRetryable(),
                job.updatedAt(), "DELETED".equals(job.imageStatus()), now);
    }
}
