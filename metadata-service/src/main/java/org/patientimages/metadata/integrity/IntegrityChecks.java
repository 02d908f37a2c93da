package org.patientimages.metadata.integrity;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.Derivation;
import org.patientimages.events.v1.IntegrityCheckRequested;
import org.patientimages.events.v1.IntegrityChecked;
import org.patientimages.metadata.feed.ChangeFeed;
import org.patientimages.metadata.image.ImageLifecycle;
import org.patientimages.metadata.outbox.OutboxRelay;
import org.patientimages.metadata.outbox.OutboxRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Integrity checks (fixity) of stored images. An available image is due when its last check, or its storing, is
 * {@code every} old; the scheduler asks the workers to check the oldest due, keeping at most {@code in-flight}
 * checks unanswered, through an {@code IntegrityCheckRequested} event in the outbox. An admin may ask for one image
 * at once. A worker reads the object through and answers with {@code IntegrityChecked}, which is recorded on the
 * image: its outcome, when it was read, and the request answered. A request whose answer was lost is asked again
 * after {@code answer-timeout}. Deriving again (an image's attributes and thumbnail read again from its bytes, for
 * images stored before the workers could read their format) rides on a check: an admin asks for one image or for
 * many, and the scheduler sends those waiting first, in the same in-flight limit. Gauge
 * {@code images.integrity.failed}: the live images whose last check found them corrupt or missing.
 */
@Service
public class IntegrityChecks {

    private static final Logger log = LoggerFactory.getLogger(IntegrityChecks.class);

    /** What a request names, from the image's row; a derivation waiting on the image rides along with its check. */
    private static final String REQUESTED = """
            i.id, i.bucket, i.object_key, i.size_bytes, i.sha256, i.content_type,
            i.derive_requested_at is not null as derive""";
    private static final RowMapper<IntegrityCheckRequested.Builder> REQUEST = (rs, n) -> {
        var request = IntegrityCheckRequested.newBuilder().setImageId(rs.getString("id"))
                .setBucket(rs.getString("bucket")).setObjectKey(rs.getString("object_key"))
                .setSizeBytes(rs.getLong("size_bytes")).setSha256(rs.getString("sha256"));
        return rs.getBoolean("derive") ? request.setDerive(true).setContentType(rs.getString("content_type")) : request;
    };

    private final JdbcClient jdbc;
    private final OutboxRepository outbox;
    private final OutboxRelay relay;
    private final IntegrityProperties properties;
    private final ChangeFeed feed;
    private final ImageLifecycle lifecycle;
    private final MeterRegistry registry;
    private final TransactionTemplate transactions;
    private volatile double failed = Double.NaN;

    IntegrityChecks(JdbcClient jdbc, OutboxRepository outbox, OutboxRelay relay, IntegrityProperties properties,
                    ChangeFeed feed, ImageLifecycle lifecycle, MeterRegistry registry,
                    TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.feed = feed;
        this.lifecycle = lifecycle;
        this.outbox = outbox;
        this.relay = relay;
        this.properties = properties;
        this.registry = registry;
        Gauge.builder("images.integrity.failed", this, c -> c.failed).register(registry);
        for (IntegrityChecked.Outcome outcome : List.of(IntegrityChecked.Outcome.INTACT, IntegrityChecked.Outcome.CORRUPT,
                IntegrityChecked.Outcome.MISSING)) {
            registry.counter("integrity.checks", "outcome", outcome.name());
        }
    }

    /**
     * Asks for the checks that are due, as many as the in-flight limit leaves room for: first the images waiting to
     * be derived again (asked for by an admin; even with the scheduled checks switched off), then those whose last
     * check is oldest. @return how many
     */
    @Scheduled(fixedDelayString = "${patient-images.integrity.interval:30s}",
            initialDelayString = "${patient-images.integrity.interval:30s}")
    @Transactional
    public int requestDue() {
        Instant now = requestTime();
        Instant answerDeadline = now.minus(properties.answerTimeout());
        long inFlight = jdbc.sql("select count(*) from images where integrity_requested_at > ? and status = 'AVAILABLE'")
                .param(Timestamps.sql(answerDeadline)).query(Long.class).single();
        long room = properties.inFlight() - inFlight;
        if (room <= 0) {
            return 0;
        }
        List<IntegrityCheckRequested.Builder> due = new ArrayList<>(claim("derive_requested_at is not null",
                "derive_requested_at", room, answerDeadline, now));
        if (properties.enabled() && due.size() < room) {
            String lastChecked = "coalesce(integrity_checked_at, stored_at)";
            due.addAll(claim(lastChecked + " < ?", lastChecked, room - due.size(), answerDeadline, now,
                    Timestamps.sql(now.minus(properties.every()))));
        }
        due.forEach(request -> publish(request, now));
        return due.size();
    }

    /**
     * Marks up to {@code limit} available images that meet {@code condition} (with its parameters), first by
     * {@code order}, as asked for now, skipping those in flight (unless their answer is past its deadline) and those
     * another transaction holds. @return their requests
     */
    private List<IntegrityCheckRequested.Builder> claim(String condition, String order, long limit,
                                                        Instant answerDeadline, Instant now,
                                                        Object... conditionParams) {
        List<Object> params = new ArrayList<>(List.of(conditionParams));
        params.addAll(List.of(Timestamps.sql(answerDeadline), limit, Timestamps.sql(now)));
        return jdbc.sql("""
                        with due as (
                            select id from images
                            where status = 'AVAILABLE' and %s
                              and (integrity_requested_at is null or integrity_requested_at <= ?)
                            order by %s
                            limit ? for update skip locked)
                        update images i set integrity_requested_at = ? from due where i.id = due.id
                        returning\s""".formatted(condition, order) + REQUESTED)
                .params(params).query(REQUEST).list();
    }

    /**
     * Asks for a check of one image now; with {@code derive}, also for its attributes and thumbnail to be read
     * again from its bytes. @return when it was asked for
     */
    @Transactional
    public Instant request(UUID imageId, boolean derive) {
        Instant now = requestTime();
        IntegrityCheckRequested.Builder request = jdbc.sql("""
                        update images i set integrity_requested_at = ?,
                            derive_requested_at = case when ? then ? else derive_requested_at end
                        where id = ? and status = 'AVAILABLE'
                        returning\s""" + REQUESTED)
                .params(Timestamps.sql(now), derive, Timestamps.sql(now), imageId).query(REQUEST).optional()
                .orElseThrow(() -> new ApiException(HttpStatus.CONFLICT, "IMAGE_NOT_AVAILABLE",
                        "Image " + imageId + " is not AVAILABLE; only stored images can be "
                                + (derive ? "derived again." : "checked."), false));
        publish(request, now);
        return now;
    }

    /**
     * Asks for every AVAILABLE image of a content type and of a patient (either or both null: any), or only those
     * without a thumbnail, to be derived again, unless one is waiting already; the scheduler sends them to the
     * workers at most {@code in-flight} at a time. The images are marked {@code derive-chunk} at a time, in the order
     * of their ids, each chunk in a transaction of its own, so that a call for a million images never holds a
     * million row locks (a call cut short leaves the chunks before marked; calling again marks the rest).
     * @return how many were asked for
     */
    public int requestDerivations(String contentType, UUID patientId, boolean withoutThumbnail) {
        var at = Timestamps.sql(requestTime());
        int asked = 0;
        UUID after = null;
        while (true) {
            UUID from = after;
            List<UUID> chunk = jdbc.sql("""
                            select id from images
                            where (cast(? as uuid) is null or id > ?)
                              and status = 'AVAILABLE' and derive_requested_at is null
                              and (cast(? as text) is null or content_type = ?)
                              and (cast(? as uuid) is null or patient_id = ?)
                              and (not ? or thumbnail_key is null)
                            order by id limit ?""")
                    .params(from, from, contentType, contentType, patientId, patientId, withoutThumbnail,
                            properties.deriveChunk()).query(UUID.class).list();
            if (chunk.isEmpty()) {
                break;
            }
            // the same conditions again: an image changed since it was read (deleted, asked for meanwhile) is left
            asked += transactions.execute(status -> jdbc.sql("""
                            update images set derive_requested_at = ?
                            where id = any(?::uuid[]) and status = 'AVAILABLE' and derive_requested_at is null""")
                    .params(at, chunk.stream().map(UUID::toString).toArray(String[]::new)).update());
            after = chunk.get(chunk.size() - 1);
        }
        transactions.executeWithoutResult(status -> requestDue());
        return asked;
    }

    /** Now, to the millisecond: the precision of the request's time in the events, which the answer echoes. */
    private static Instant requestTime() {
        return Instant.now().truncatedTo(ChronoUnit.MILLIS);
    }

    private void publish(IntegrityCheckRequested.Builder request, Instant now) {
        IntegrityCheckRequested event = request.setEventId(UUID.randomUUID().toString())
                .setRequestedAtEpochMs(now.toEpochMilli()).build();
        outbox.add(Topics.INTEGRITY_CHECKS, event.getImageId(), event.toByteArray(), now);
        relay.wakeAfterCommit();
    }

    /**
     * Records a worker's answer on a live image, unless a later check was recorded already (answers may come twice
     * or out of order). The request it answers is no longer in flight; one made after it still is.
     */
    @Transactional
    public void record(IntegrityChecked result) {
        if (result.getOutcome() == IntegrityChecked.Outcome.OUTCOME_UNSPECIFIED
                || result.getOutcome() == IntegrityChecked.Outcome.UNRECOGNIZED) {
            throw new IllegalArgumentException("integrity result " + result.getEventId() + " has no outcome");
        }
        UUID imageId = UUID.fromString(result.getImageId());
        var checkedAt = Timestamps.sql(Instant.ofEpochMilli(result.getCheckedAtEpochMs()));
        // every request since a derivation was asked for asks to derive: its answer answers the derivation too
        var requestedAt = Timestamps.sql(Instant.ofEpochMilli(result.getRequestedAtEpochMs()));
        int updated = jdbc.sql("""
                        update images set integrity_status = ?, integrity_checked_at = ?,
                            integrity_requested_at = case when integrity_requested_at <= ? then null
                                                          else integrity_requested_at end,
                            derive_requested_at = case when derive_requested_at <= ? then null
                                                       else derive_requested_at end
                        where id = ? and status = 'AVAILABLE'
                          and (integrity_checked_at is null or integrity_checked_at <= ?)""")
                .params(result.getOutcome().name(), checkedAt, requestedAt, requestedAt, imageId, checkedAt)
                .update();
        if (updated == 0) {
            if (result.getDerivation().hasThumbnail()) {
                // the image was deleted while its thumbnail was made: removed again if its objects are gone already
                lifecycle.deleteObjectsAgain(imageId);
            }
            return;
        }
        if (result.hasDerivation()) {
            recordDerivation(imageId, result);
        }
        registry.counter("integrity.checks", "outcome", result.getOutcome().name()).increment();
        if (result.getOutcome() != IntegrityChecked.Outcome.INTACT) {
            log.warn("image {} failed its integrity check: {} (worker {})", imageId, result.getOutcome(),
                    result.getWorkerId());
        }
    }

    /**
     * What a worker derived again from the image's intact bytes replaces what the image had (a step it could not do
     * leaves the earlier value), and is a change in the feed. From bytes that are not intact nothing is derived: the
     * image's integrity says why.
     */
    private void recordDerivation(UUID imageId, IntegrityChecked result) {
        Derivation derivation = result.getDerivation();
        String attributes = derivation.getAttributesJson().isEmpty() ? null : derivation.getAttributesJson();
        String thumbnail = derivation.hasThumbnail() ? derivation.getThumbnail().getObjectKey() : null;
        boolean intact = result.getOutcome() == IntegrityChecked.Outcome.INTACT;
        jdbc.sql("""
                        update images set attributes = coalesce(?::jsonb, attributes),
                            thumbnail_key = coalesce(?, thumbnail_key),
                            derived_at = case when ? then ? else derived_at end
                        where id = ?""")
                .params(attributes, thumbnail, intact,
                        Timestamps.sql(Instant.ofEpochMilli(result.getCheckedAtEpochMs())), imageId)
                .update();
        if (attributes != null || thumbnail != null) {
            feed.record(ChangeFeed.Type.UPDATED, imageId);
        }
        log.info("image {} derived again: attributes {}, thumbnail {}, {} step(s) skipped", imageId,
                attributes != null, thumbnail != null, derivation.getSkippedCount());
    }

    @Scheduled(fixedDelay = 5_000)
    void refreshGauge() {
        try {
            failed = jdbc.sql("""
                    select count(*) from images
                    where integrity_status in ('CORRUPT', 'MISSING') and status <> 'DELETED'""")
                    .query(Long.class).single();
        } catch (DataAccessException e) {
            failed = Double.NaN;
        }
    }
}
