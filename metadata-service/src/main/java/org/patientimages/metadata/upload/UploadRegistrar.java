package org.patientimages.metadata.upload;

import org.patientimages.events.Topics;
import org.patientimages.events.v1.UploadAccepted;
import org.patientimages.metadata.image.ImageLifecycle;
import org.patientimages.metadata.image.Tags;
import org.patientimages.metadata.job.Job;
import org.patientimages.metadata.job.JobEventRecorder;
import org.patientimages.metadata.job.JobFact;
import org.patientimages.metadata.job.JobStatus;
import org.patientimages.metadata.job.JobRepository;
import org.patientimages.metadata.outbox.OutboxRelay;
import org.patientimages.metadata.outbox.OutboxRepository;
import org.patientimages.metadata.patient.PatientRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Records an accepted upload: image (PENDING), tags, job (QUEUED), its ACCEPTED event and the
 * {@code UploadAccepted} message in the outbox, all in one transaction. Once it commits the upload cannot be
 * lost: the relay publishes the message even if this process dies right after.
 */
@Service
class UploadRegistrar {

    /** The code of an upload whose declared name, description or tags are refused. */
    static final String INVALID_METADATA = "INVALID_METADATA";
    /** The length of {@code jobs.idempotency_key}. */
    private static final int MAX_IDEMPOTENCY_KEY = 255;

    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final PatientRepository patients;
    private final JobRepository jobs;
    private final OutboxRepository outbox;
    private final OutboxRelay relay;
    private final JsonMapper json;
    private final JobEventRecorder recorder;
    private final ImageLifecycle images;
    private final DuplicatePolicy duplicates;

    UploadRegistrar(JdbcClient jdbc, TransactionTemplate tx, PatientRepository patients, JobRepository jobs,
                    OutboxRepository outbox, OutboxRelay relay, JsonMapper json, JobEventRecorder recorder,
                    ImageLifecycle images, DuplicatePolicy duplicates) {
        this.duplicates = duplicates;
        this.recorder = recorder;
        this.images = images;
        this.jdbc = jdbc;
        this.tx = tx;
        this.patients = patients;
        this.jobs = jobs;
        this.outbox = outbox;
        this.relay = relay;
        this.json = json;
    }

    UploadRegistered register(UploadRegistration u) {
        return registerAll(List.of(u)).get(0);
    }

    /**
     * Registers uploads that came together (the files of one archive) in one transaction: all of them or none.
     * When their idempotency keys name earlier uploads, those are the answer and nothing new is created.
     */
    List<UploadRegistered> registerAll(List<UploadRegistration> batch) {
        for (UploadRegistration u : batch) {
            if (u.idempotencyKey() != null && u.idempotencyKey().length() > MAX_IDEMPOTENCY_KEY) {
                throw ApiException.badRequest("INVALID_IDEMPOTENCY_KEY",
                        "An idempotency key is at most " + MAX_IDEMPOTENCY_KEY + " characters.");
            }
        }
        List<UploadRegistered> result;
        try {
            result = tx.execute(status -> replayOf(batch).orElseGet(() -> batch.stream().map(this::insert).toList()));
        } catch (DuplicateKeyException raced) {
            // another request with the same idempotency keys committed first: answer with its jobs
            result = replayOf(batch).orElseThrow(() -> raced);
        }
        if (result.stream().anyMatch(r -> !r.replayed() && r.status() == JobStatus.QUEUED)) {
            relay.wake();
        }
        return result;
    }

    /** The earlier uploads of the batch's idempotency keys, if every one of them names one. */
    private Optional<List<UploadRegistered>> replayOf(List<UploadRegistration> batch) {
        List<UploadRegistered> earlier = new ArrayList<>();
        for (UploadRegistration u : batch) {
            Optional<UploadRegistered> replay = u.idempotencyKey() == null ? Optional.empty()
                    : replayOf(u.patientId(), u.idempotencyKey());
            if (replay.isEmpty()) {
                return Optional.empty();
            }
            earlier.add(replay.get());
        }
        return Optional.of(earlier);
    }

    Optional<UploadRegistered> replayOf(UUID patientId, String idempotencyKey) {
        return jobs.findByIdempotencyKey(patientId, idempotencyKey).map(this::replayed);
    }

    /**
     * The uploads of a batch registered with the idempotency keys {@code <key>#0}, {@code <key>#1}, … (the files of
     * one archive), in that order; empty when there was none.
     */
    Optional<List<UploadRegistered>> replayOfBatch(UUID patientId, String idempotencyKey) {
        List<UploadRegistered> earlier = new ArrayList<>();
        for (Optional<UploadRegistered> next; (next = replayOf(patientId, batchKey(idempotencyKey, earlier.size())))
                .isPresent(); ) {
            earlier.add(next.get());
        }
        return earlier.isEmpty() ? Optional.empty() : Optional.of(earlier);
    }

    /** The idempotency key of the {@code index}th upload of a batch sent with {@code key}. */
    static String batchKey(String key, int index) {
        return key + "#" + index;
    }

    private UploadRegistered replayed(Job job) {
        // a job that ended before any attempt ended when it was accepted (checksum mismatch, skipped duplicate),
        // unless a client cancelled it since
        boolean endedOnArrival = job.status().isTerminal() && job.attempts() == 0 && job.status() != JobStatus.CANCELLED;
        JobStatus accepted = endedOnArrival ? job.status() : JobStatus.QUEUED;
        String duplicateOf = endedOnArrival && job.status() == JobStatus.SUCCEEDED ? job.imageId()
                : jdbc.sql("select duplicate_of::text from images where id = ?::uuid").param(job.imageId())
                        .query(String.class).optional().orElse(null);
        return new UploadRegistered(job.jobId(), job.imageId(), accepted, true, duplicateOf);
    }

    /** The earliest live image of the patient with the same bytes, and whether it is AVAILABLE. */
    private record Earlier(UUID imageId, boolean available) {
    }

    /**
     * By the index on the SHA-256 (migration V8), compared as the column's {@code char(64)}: compared as text, the
     * column is cast, no index on it serves, and every live image of the patient is read.
     */
    static final String EARLIER_WITH_SAME_BYTES = """
            select id, status from images
            where patient_id = ? and sha256 = cast(? as char(64)) and size_bytes = ? and status in ('PENDING', 'AVAILABLE')
            order by uploaded_at, id limit 1""";

    private Optional<Earlier> earlierWithSameBytes(UploadRegistration u) {
        return jdbc.sql(EARLIER_WITH_SAME_BYTES)
                .params(u.patientId(), u.sha256(), u.sizeBytes())
                .query((rs, n) -> new Earlier(rs.getObject("id", UUID.class), "AVAILABLE".equals(rs.getString("status"))))
                .optional();
    }

    private UploadRegistered insert(UploadRegistration u) {
        if (!patients.lockLive(u.patientId())) {
            throw ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + u.patientId() + ".");
        }
        List<String> tags = Tags.normalise(u.tags(), INVALID_METADATA);
        Instant now = Timestamps.now();
        Optional<Earlier> earlier = u.checksumMismatch() ? Optional.empty() : earlierWithSameBytes(u);
        if (earlier.isPresent() && earlier.get().available() && duplicates.policy() == DuplicatePolicy.Mode.SKIP) {
            return skip(u, earlier.get().imageId(), now);
        }
        UUID duplicateOf = earlier.map(Earlier::imageId).orElse(null);
        jdbc.sql("""
                insert into images (id, patient_id, name, description, status, original_filename, content_type,
                                    size_bytes, sha256, uploaded_at, duplicate_of)
                values (?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?, ?)""")
                .params(u.imageId(), u.patientId(), u.name(), u.description(), u.originalFilename(),
                        u.contentType(), u.sizeBytes(), u.sha256(), Timestamps.sql(now), duplicateOf)
                .update();
        images.attachTags(u.imageId(), tags);
        recordAccepted(u, u.imageId(), now);
        if (u.checksumMismatch()) {
            // the bytes are not what the client meant to send: the job ends here, nothing is published
            String message = "The file's SHA-256 is " + u.sha256() + ", not the declared " + u.declaredSha256() + ".";
            recorder.record(UUID.randomUUID(), u.jobId(), new JobFact.Failed("CHECKSUM_MISMATCH", message, false), now);
            return new UploadRegistered(u.jobId().toString(), u.imageId().toString(), JobStatus.FAILED, false, null);
        }
        publishAccepted(u.jobId(), u.imageId(), u.patientId(), u.stagingKey(), u.sizeBytes(), u.sha256(),
                u.contentType(), now);
        return new UploadRegistered(u.jobId().toString(), u.imageId().toString(), JobStatus.QUEUED, false,
                duplicateOf == null ? null : duplicateOf.toString());
    }

    /** The patient has these bytes already and the policy is SKIP: a job that ends at once, nothing stored. */
    private UploadRegistered skip(UploadRegistration u, UUID existing, Instant now) {
        recordAccepted(u, existing, now);
        recorder.record(UUID.randomUUID(), u.jobId(), new JobFact.SkippedAsDuplicate(existing.toString()), now);
        return new UploadRegistered(u.jobId().toString(), existing.toString(), JobStatus.SUCCEEDED, false,
                existing.toString());
    }

    private void recordAccepted(UploadRegistration u, UUID imageId, Instant now) {
        jobs.insert(u.jobId(), u.patientId(), imageId, u.stagingKey(), u.idempotencyKey(), now);
        jobs.insertEvent(u.jobId(), 1, UUID.randomUUID(), "ACCEPTED", now, json.writeValueAsString(
                acceptedDetail(u.sizeBytes(), u.sha256(), u.contentType())));
    }

    /** What a job's {@code ACCEPTED} event says of its bytes. */
    static Map<String, Object> acceptedDetail(long sizeBytes, String sha256, String contentType) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("sizeBytes", sizeBytes);
        detail.put("sha256", sha256);
        detail.put("contentType", contentType);
        return detail;
    }

    /** The message that has a worker take the job, into the outbox, in the caller's transaction. */
    void publishAccepted(UUID jobId, UUID imageId, UUID patientId, String stagingKey, long sizeBytes, String sha256,
                         String contentType, Instant now) {
        UploadAccepted event = UploadAccepted.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId.toString())
                .setImageId(imageId.toString())
                .setPatientId(patientId.toString())
                .setStagingKey(stagingKey)
                .setSizeBytes(sizeBytes)
                .setSha256(sha256)
                .setContentType(contentType)
                .setAcceptedAtEpochMs(now.toEpochMilli())
                .build();
        outbox.add(Topics.UPLOADS, jobId.toString(), event.toByteArray(), now);
    }
}
