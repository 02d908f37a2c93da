package org.patientimages.metadata.job;

import org.patientimages.metadata.feed.ChangeFeed;
import org.patientimages.metadata.image.ImageLifecycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.databind.json.JsonMapper;

import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Records what workers report: one job update plus one event row per accepted fact, in one transaction, under
 * row locks on the jobs. A fact whose event id was recorded before, or that the state
 * machine ignores, changes nothing, so redelivery and replay are harmless; except that a worker's end of a job
 * cancelled meanwhile has the image's objects deleted again, since the worker may have stored some after the
 * cancellation's deletion ran.
 */
@Service
public class JobEventRecorder {

    private static final Logger log = LoggerFactory.getLogger(JobEventRecorder.class);

    private final JobRepository jobs;
    private final JdbcTemplate batches;
    private final JsonMapper json;
    private final ImageLifecycle imageLifecycle;
    private final ChangeFeed feed;

    JobEventRecorder(JobRepository jobs, JdbcTemplate batches, JsonMapper json, ImageLifecycle imageLifecycle,
                     ChangeFeed feed) {
        this.jobs = jobs;
        this.batches = batches;
        this.json = json;
        this.imageLifecycle = imageLifecycle;
        this.feed = feed;
    }

    /**
     * One reported fact: its event id, its job, what it says, when it happened, and the id of the API request
     * the job came from (for the logs; null when unknown).
     */
    public record Fact(UUID eventId, UUID jobId, JobFact fact, Instant at, String requestId) {
    }

    /**
     * Records the facts in order, in one transaction; each fact's log line carries its job and request ids.
     * Whatever the number of facts: one statement locks their jobs, one finds the events recorded before, one
     * batch appends the new events, one updates the jobs and one updates the images their facts change, each
     * image once (every update of an image writes all of its indexes again: its status is in their predicates).
     */
    @Transactional
    public void recordAll(List<Fact> facts) {
        if (facts.isEmpty()) {
            return;
        }
        Map<UUID, JobRepository.LockedJob> locked = jobs.lock(new TreeSet<>(facts.stream().map(Fact::jobId).toList()));
        Set<UUID> recorded = jobs.recorded(facts.stream().map(Fact::eventId).toList());
        Map<UUID, JobRepository.Changed> changed = new LinkedHashMap<>();
        Map<UUID, ImageChange> images = new LinkedHashMap<>();
        List<JobRepository.EventRow> events = new ArrayList<>();
        Set<UUID> storedAfterCancel = new TreeSet<>();
        for (Fact f : facts) {
            try (var job = MDC.putCloseable("jobId", f.jobId().toString());
                 MDC.MDCCloseable request = f.requestId() == null ? null : MDC.putCloseable("requestId", f.requestId())) {
                JobRepository.LockedJob before = locked.get(f.jobId());
                if (before == null) {
                    log.warn("job event {} names unknown job {}; ignored", f.eventId(), f.jobId());
                    continue;
                }
                if (recorded.contains(f.eventId())) {
                    continue;
                }
                var next = before.state().apply(f.fact());
                if (next.isEmpty()) {
                    log.debug("job {}: {} ignored in state {}", f.jobId(), f.fact().eventType(), before.state());
                    if (before.state().status() == JobStatus.CANCELLED
                            && (f.fact() instanceof JobFact.Succeeded || f.fact() instanceof JobFact.Failed)) {
                        // a worker finished a job cancelled meanwhile: whatever it stored goes too
                        storedAfterCancel.add(before.imageId());
                    }
                    continue;
                }
                JobState state = next.get();
                int seq = before.eventCount() + 1;
                locked.put(f.jobId(), new JobRepository.LockedJob(state, seq, before.imageId()));
                recorded.add(f.eventId());
                JobRepository.Changed earlier = changed.get(f.jobId());
                JobFact.Failed failure = f.fact() instanceof JobFact.Failed failed ? failed
                        : earlier == null ? null : earlier.failure();
                changed.put(f.jobId(), new JobRepository.Changed(f.jobId(), state, seq, failure, f.at()));
                events.add(new JobRepository.EventRow(f.jobId(), seq, f.eventId(), f.fact().eventType(), f.at(),
                        json.writeValueAsString(detail(f.fact(), state))));
                ImageChange image = images.getOrDefault(before.imageId(), ImageChange.NONE).with(f.fact(), state, f.at());
                if (image != ImageChange.NONE) {
                    images.put(before.imageId(), image);
                }
                log.info("job {} {} -> {}", f.jobId(), f.fact().eventType(), state.status());
            }
        }
        if (!events.isEmpty()) {
            jobs.insertEvents(events);
            jobs.update(changed.values());
        }
        if (!images.isEmpty()) {
            updateImages(images);
        }
        storedAfterCancel.forEach(imageLifecycle::deleteObjectsAgain);
    }

    /** Records one fact, as {@link #recordAll} does. */
    @Transactional
    public void record(UUID eventId, UUID jobId, JobFact fact, Instant at) {
        recordAll(List.of(new Fact(eventId, jobId, fact, at, null)));
    }

    /**
     * What the facts of one transaction change on one image; null where they change nothing. A later fact's value
     * replaces an earlier one's, as one update after another would.
     */
    record ImageChange(String bucket, String objectKey, Instant storedAt, String attributesJson, String thumbnailKey,
                       String status) {

        static final ImageChange NONE = new ImageChange(null, null, null, null, null, null);

        /** This change and what {@code fact}, which brought its job to {@code state} at {@code at}, changes. */
        ImageChange with(JobFact fact, JobState state, Instant at) {
            if (fact instanceof JobFact.Stored s) {
                return new ImageChange(s.bucket(), s.objectKey(), at, attributesJson, thumbnailKey, status);
            } else if (fact instanceof JobFact.AttributesExtracted a) {
                return new ImageChange(bucket, objectKey, storedAt, a.attributesJson(), thumbnailKey, status);
            } else if (fact instanceof JobFact.ThumbnailRendered t) {
                return new ImageChange(bucket, objectKey, storedAt, attributesJson, t.objectKey(), status);
            } else if (state.status() == JobStatus.SUCCEEDED) {
                return new ImageChange(bucket, objectKey, storedAt, attributesJson, thumbnailKey, "AVAILABLE");
            } else if (state.status() == JobStatus.FAILED) {
                return new ImageChange(bucket, objectKey, storedAt, attributesJson, thumbnailKey, "FAILED");
            }
            return this;
        }
    }

    /** The parameters' types, so that a null needs no lookup. */
    private static final int[] IMAGE_CHANGE_TYPES = {Types.VARCHAR, Types.VARCHAR, Types.TIMESTAMP,
            Types.VARCHAR, Types.VARCHAR, Types.VARCHAR, Types.OTHER};

    /** One batch, one statement per image; a column the image's facts leave alone keeps its value. */
    private void updateImages(Map<UUID, ImageChange> changes) {
        batches.batchUpdate("""
                update images set bucket = coalesce(?, bucket), object_key = coalesce(?, object_key),
                                  stored_at = coalesce(?::timestamptz, stored_at),
                                  attributes = coalesce(?::jsonb, attributes),
                                  thumbnail_key = coalesce(?, thumbnail_key), status = coalesce(?, status)
                where id = ?""", changes.entrySet().stream().map(e -> {
            ImageChange c = e.getValue();
            return new Object[] {c.bucket(), c.objectKey(), c.storedAt() == null ? null : Timestamp.from(c.storedAt()),
                    c.attributesJson(), c.thumbnailKey(), c.status(), e.getKey()};
        }).toList(), IMAGE_CHANGE_TYPES);
        for (ChangeFeed.Type ended : List.of(ChangeFeed.Type.AVAILABLE, ChangeFeed.Type.FAILED)) {
            List<UUID> images = changes.entrySet().stream().filter(e -> ended.name().equals(e.getValue().status()))
                    .map(Map.Entry::getKey).toList();
            if (!images.isEmpty()) {
                feed.record(ended, images);
            }
        }
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
        } else if (fact instanceof JobFact.Cancelled c) {
            d.put("by", c.by());
        } else if (fact instanceof JobFact.RetryScheduled r) {
            d.put("reason", r.reason());
            d.put("backoffMs", r.backoffMs());
        }
        return d;
    }
}
