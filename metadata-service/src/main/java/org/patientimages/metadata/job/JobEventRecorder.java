package org.patientimages.metadata.job;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Records what workers report: one conditional job update plus one event row per accepted fact, in one
 * transaction, under a row lock on the job. A fact whose event id was recorded before, or that the state
 * machine ignores, changes nothing, so redelivery and replay are harmless.
 */
@Service
public class JobEventRecorder {

    private static final Logger log = LoggerFactory.getLogger(JobEventRecorder.class);

    private final JobRepository jobs;
    private final JdbcClient jdbc;
    private final JsonMapper json;

    JobEventRecorder(JobRepository jobs, JdbcClient jdbc, JsonMapper json) {
        this.jobs = jobs;
        this.jdbc = jdbc;
        this.json = json;
    }

    /**
     * One reported fact: its event id, its job, what it says, when it happened, and the id of the API request
     * the job came from (for the logs; null when unknown).
     */
    public record Fact(UUID eventId, UUID jobId, JobFact fact, Instant at, String requestId) {
    }

    /** Records the facts in order, in one transaction; each fact's log line carries its job and request ids. */
    @Transactional
    public void recordAll(java.util.List<Fact> facts) {
        for (Fact f : facts) {
            try (var job = org.slf4j.MDC.putCloseable("jobId", f.jobId().toString());
                 org.slf4j.MDC.MDCCloseable request = f.requestId() == null ? null
                         : org.slf4j.MDC.putCloseable("requestId", f.requestId())) {
                record(f.eventId(), f.jobId(), f.fact(), f.at());
            }
        }
    }

    /** @return whether the fact was recorded */
    @Transactional
    public boolean record(UUID eventId, UUID jobId, JobFact fact, Instant at) {
        var locked = jobs.lock(jobId).orElse(null);
        if (locked == null) {
            log.warn("job event {} names unknown job {}; ignored", eventId, jobId);
            return false;
        }
        if (jobs.eventRecorded(eventId)) {
            return false;
        }
        var next = locked.state().apply(fact);
        if (next.isEmpty()) {
            log.debug("job {}: {} ignored in state {}", jobId, fact.eventType(), locked.state());
            return false;
        }
        JobState state = next.get();
        jobs.update(jobId, state, fact instanceof JobFact.Failed f ? f : null, at);
        jobs.insertEvent(jobId, locked.eventCount() + 1, eventId, fact.eventType(), at,
                json.writeValueAsString(detail(fact, state)));
        if (fact instanceof JobFact.Stored s) {
            jdbc.sql("update images set bucket = ?, object_key = ?, stored_at = ? where id = ?")
                    .params(s.bucket(), s.objectKey(), java.sql.Timestamp.from(at), locked.imageId())
                    .update();
        } else if (fact instanceof JobFact.AttributesExtracted a) {
            jdbc.sql("update images set attributes = ?::jsonb where id = ?").params(a.attributesJson(), locked.imageId())
                    .update();
        } else if (fact instanceof JobFact.ThumbnailRendered t) {
            jdbc.sql("update images set thumbnail_key = ? where id = ?").params(t.objectKey(), locked.imageId()).update();
        } else if (state.status() == JobStatus.SUCCEEDED) {
            setImageStatus(locked.imageId(), "AVAILABLE");
        } else if (state.status() == JobStatus.FAILED) {
            setImageStatus(locked.imageId(), "FAILED");
        }
        log.info("job {} {} -> {}", jobId, fact.eventType(), state.status());
        return true;
    }

    private void setImageStatus(UUID imageId, String status) {
        jdbc.sql("update images set status = ? where id = ?").params(status, imageId).update();
    }

    private static Map<String, Object> detail(JobFact fact, JobState state) {
        Map<String, Object> d = new LinkedHashMap<>();
        if (fact instanceof JobFact.Started s) {
            d.put("attempt", state.attempts());
            d.put("workerId", s.workerId());
        } else if (fact instanceof JobFact.Progressed p) {
            d.put("percent", p.percent());
            d.put("bytesStored", p.bytesStored());
        } else if (fact instanceof JobFact.Stored s) {
            d.put("sizeBytes", s.sizeBytes());
            d.put("sha256", s.sha256());
        } else if (fact instanceof JobFact.Failed f) {
            d.put("code", f.code());
            d.put("message", f.message());
            d.put("retryable", f.retryable());
        } else if (fact instanceof JobFact.AttributesExtracted) {
            d.put("attributes", "recorded on the image");
        } else if (fact instanceof JobFact.ThumbnailRendered t) {
            d.put("width", t.width());
            d.put("height", t.height());
        } else if (fact instanceof JobFact.StepSkipped k) {
            d.put("step", k.step());
            d.put("reason", k.reason());
        } else if (fact instanceof JobFact.SkippedAsDuplicate k) {
            d.put("duplicateOf", k.existingImageId());
            d.put("skipped", true);
        } else if (fact instanceof JobFact.RetryScheduled r) {
            d.put("reason", r.reason());
            d.put("backoffMs", r.backoffMs());
        }
        return d;
    }
}
