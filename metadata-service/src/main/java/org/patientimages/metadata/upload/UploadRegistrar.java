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

    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final PatientRepository patients;
    private final JobRepository jobs;
    private final OutboxRepository outbox;
    private final OutboxRelay relay;
    private final JsonMapper json;
    private final JobEventRecorder recorder;
    private final ImageLifecycle images;

    UploadRegistrar(JdbcClient jdbc, TransactionTemplate tx, PatientRepository patients, JobRepository jobs,
                    OutboxRepository outbox, OutboxRelay relay, JsonMapper json, JobEventRecorder recorder,
                    ImageLifecycle images) {
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
        UploadRegistered result;
        try {
            result = tx.execute(status -> replayOf(u).orElseGet(() -> insert(u)));
        } catch (DuplicateKeyException raced) {
            // another request with the same idempotency key committed first: answer with its job
            result = replayOf(u).orElseThrow(() -> raced);
        }
        if (!result.replayed() && result.status() == JobStatus.QUEUED) {
            relay.wake();
        }
        return result;
    }

    private Optional<UploadRegistered> replayOf(UploadRegistration u) {
        return u.idempotencyKey() == null ? Optional.empty() : replayOf(u.patientId(), u.idempotencyKey());
    }

    Optional<UploadRegistered> replayOf(UUID patientId, String idempotencyKey) {
        return jobs.findByIdempotencyKey(patientId, idempotencyKey).map(UploadRegistrar::replayed);
    }

    private static UploadRegistered replayed(Job job) {
        // a job that failed before any attempt failed when it was accepted (checksum mismatch)
        JobStatus accepted = job.status() == JobStatus.FAILED && job.attempts() == 0 ? JobStatus.FAILED : JobStatus.QUEUED;
        return new UploadRegistered(job.jobId(), job.imageId(), accepted, true);
    }

    private UploadRegistered insert(UploadRegistration u) {
        if (!patients.exists(u.patientId())) {
            throw ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + u.patientId() + ".");
        }
        List<String> tags = Tags.normalise(u.tags(), "INVALID_METADATA");
        Instant now = Timestamps.now();
        jdbc.sql("""
                insert into images (id, patient_id, name, description, status, original_filename, content_type,
                                    size_bytes, sha256, uploaded_at)
                values (?, ?, ?, ?, 'PENDING', ?, ?, ?, ?, ?)""")
                .params(u.imageId(), u.patientId(), u.name(), u.description(), u.originalFilename(),
                        u.contentType(), u.sizeBytes(), u.sha256(), Timestamps.sql(now))
                .update();
        images.attachTags(u.imageId(), tags);
        jobs.insert(u.jobId(), u.patientId(), u.imageId(), u.stagingKey(), u.idempotencyKey(), now);
        jobs.insertEvent(u.jobId(), 1, UUID.randomUUID(), "ACCEPTED", now, json.writeValueAsString(Map.of(
                "sizeBytes", u.sizeBytes(), "sha256", u.sha256(), "contentType", u.contentType())));
        jdbc.sql("update jobs set event_count = 1 where id = ?").param(u.jobId()).update();
        if (u.checksumMismatch()) {
            // the bytes are not what the client meant to send: the job ends here, nothing is published
            String message = "The file's SHA-256 is " + u.sha256() + ", not the declared " + u.declaredSha256() + ".";
            recorder.record(UUID.randomUUID(), u.jobId(), new JobFact.Failed("CHECKSUM_MISMATCH", message, false), now);
            return new UploadRegistered(u.jobId().toString(), u.imageId().toString(), JobStatus.FAILED, false);
        }
        UploadAccepted event = UploadAccepted.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(u.jobId().toString())
                .setImageId(u.imageId().toString())
                .setPatientId(u.patientId().toString())
                .setStagingKey(u.stagingKey())
                .setSizeBytes(u.sizeBytes())
                .setSha256(u.sha256())
                .setContentType(u.contentType())
                .setAcceptedAtEpochMs(now.toEpochMilli())
                .build();
        outbox.add(Topics.UPLOADS, u.jobId().toString(), event.toByteArray(), now);
        return new UploadRegistered(u.jobId().toString(), u.imageId().toString(), JobStatus.QUEUED, false);
    }
}
