package org.patientimages.metadata.job;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.ToDoubleFunction;

/**
 * The uploads that wait for a worker, as gauges to scale the workers on: {@code jobs.open{status}} (QUEUED,
 * RUNNING) and {@code jobs.queued.oldest} in seconds, how long the queued job that waits longest has waited since
 * it was queued (0 when none waits). Read from the database, so they tell the truth whatever runs, also when no
 * worker does (whose own Kafka lag metrics are then gone). One query on the open jobs' index, at most every
 * {@link #FRESH} however often the gauges are read; NaN while the database cannot answer.
 */
@Component
class JobBacklog {

    static final Duration FRESH = Duration.ofSeconds(5);

    private record Snapshot(double queued, double running, double oldestQueuedSeconds, Instant at) {
    }

    private static final Snapshot UNKNOWN = new Snapshot(Double.NaN, Double.NaN, Double.NaN, Instant.EPOCH);

    private final JdbcClient jdbc;
    private final Clock clock = Clock.systemUTC();
    private Snapshot last = UNKNOWN;

    JobBacklog(JdbcClient jdbc, MeterRegistry registry) {
        this.jdbc = jdbc;
        gauge(registry, "jobs.open", "QUEUED", Snapshot::queued, "Jobs that wait for a worker, or run");
        gauge(registry, "jobs.open", "RUNNING", Snapshot::running, "Jobs that wait for a worker, or run");
        Gauge.builder("jobs.queued.oldest", this, b -> b.snapshot().oldestQueuedSeconds()).baseUnit("seconds")
                .description("How long the queued job that waits longest has waited").register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String status, ToDoubleFunction<Snapshot> value,
                       String description) {
        Gauge.builder(name, this, b -> value.applyAsDouble(b.snapshot())).tag("status", status)
                .description(description).register(registry);
    }

    private synchronized Snapshot snapshot() {
        Instant now = clock.instant();
        if (Duration.between(last.at(), now).compareTo(FRESH) < 0) {
            return last;
        }
        try {
            last = jdbc.sql("""
                    select count(*) filter (where status = 'QUEUED') as queued,
                           count(*) filter (where status = 'RUNNING') as running,
                           min(updated_at) filter (where status = 'QUEUED') as oldest
                    from jobs where status in ('QUEUED', 'RUNNING')""")
                    .query((rs, i) -> {
                        Timestamp oldest = rs.getTimestamp("oldest");
                        double waited = oldest == null ? 0
                                : Math.max(0, Duration.between(oldest.toInstant(), now).toMillis() / 1000.0);
                        return new Snapshot(rs.getLong("queued"), rs.getLong("running"), waited, now);
                    }).single();
        } catch (DataAccessException e) {
            last = new Snapshot(Double.NaN, Double.NaN, Double.NaN, now);
        }
        return last;
    }
}
