package org.patientimages.metadata.job;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.function.ToDoubleFunction;

/**
 * The uploads that wait for a worker, as gauges to scale the workers on: {@code jobs.open{status}} (QUEUED,
 * RUNNING) and {@code jobs.queued.oldest} in seconds, how long the queued job that waits longest has waited since
 * it was queued (0 when none waits). Read from the database, so they tell the truth whatever runs, also when no
 * worker does (whose own Kafka lag metrics are then gone): one query on the open jobs' index every 5 s, off the
 * scrape, which only reads the last answer and so never waits for the database; NaN while it cannot answer.
 * Also {@code jobs.awaiting.retry}: the jobs that failed for a passing cause (the object store stayed down) and
 * can be retried from their kept bytes, by the partial index of such failures; above zero, an operator's
 * {@code POST /v1/jobs/retry-failed} is due once the store is back.
 */
@Component
class JobBacklog {

    private record Snapshot(double queued, double running, double oldestQueuedSeconds, double awaitingRetry) {
    }

    private static final Snapshot UNKNOWN = new Snapshot(Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    private final JdbcClient jdbc;
    private final Duration retryWindow;
    private volatile Snapshot last = UNKNOWN;

    JobBacklog(JdbcClient jdbc, MeterRegistry registry, RetryWindow retryWindow) {
        this.jdbc = jdbc;
        this.retryWindow = retryWindow.retryWindow();
        open(registry, "QUEUED", Snapshot::queued);
        open(registry, "RUNNING", Snapshot::running);
        Gauge.builder("jobs.queued.oldest", this, b -> b.last.oldestQueuedSeconds()).baseUnit("seconds")
                .register(registry);
        Gauge.builder("jobs.awaiting.retry", this, b -> b.last.awaitingRetry()).register(registry);
    }

    private void open(MeterRegistry registry, String status, ToDoubleFunction<Snapshot> count) {
        Gauge.builder("jobs.open", this, b -> count.applyAsDouble(b.last)).tag("status", status).register(registry);
    }

    @Scheduled(fixedDelay = 5_000)
    void refresh() {
        Instant now = Instant.now();
        try {
            long awaitingRetry = jdbc.sql("select count(*) from jobs j join images i on i.id = j.image_id where "
                    + RetryWindow.AWAITING_RETRY).param(Timestamp.from(now.minus(retryWindow))).query(Long.class).single();
            last = jdbc.sql("""
                    select count(*) filter (where status = 'QUEUED') as queued,
                           count(*) filter (where status = 'RUNNING') as running,
                           min(updated_at) filter (where status = 'QUEUED') as oldest
                    from jobs where status in ('QUEUED', 'RUNNING')""")
                    .query((rs, i) -> {
                        Timestamp oldest = rs.getTimestamp("oldest");
                        double waited = oldest == null ? 0
                                : Math.max(0, Duration.between(oldest.toInstant(), now).toMillis() / 1000.0);
                        return new Snapshot(rs.getLong("queued"), rs.getLong("running"), waited, awaitingRetry);
                    }).single();
        } catch (DataAccessException e) {
            last = UNKNOWN;
        }
    }
}
