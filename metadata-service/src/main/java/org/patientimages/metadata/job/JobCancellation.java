package org.patientimages.metadata.job;

import org.patientimages.events.Topics;
import org.patientimages.events.v1.JobCancelled;
import org.patientimages.metadata.image.ImageLifecycle;
import org.patientimages.metadata.outbox.OutboxRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.util.List;
import java.util.UUID;

/**
 * A client's cancellation of a job that has not ended (an upload to the wrong patient, a file sent by mistake):
 * the job ends {@code CANCELLED} and its image is deleted, in one transaction, with a {@code JobCancelled} event in
 * the outbox by which the workers skip the job, or stop retrying it. One that stores the file before it hears of it
 * has its objects removed when it reports the job's end (see {@link JobEventRecorder}).
 */
@Service
public class JobCancellation {

    private final JobRepository jobs;
    private final JobEventRecorder recorder;
    private final ImageLifecycle images;
    private final OutboxRepository outbox;

    JobCancellation(JobRepository jobs, JobEventRecorder recorder, ImageLifecycle images, OutboxRepository outbox) {
        this.jobs = jobs;
        this.recorder = recorder;
        this.images = images;
        this.outbox = outbox;
    }

    /** The job, cancelled; again for a job cancelled before; {@code 409 JOB_ENDED} for one that ended otherwise. */
    @Transactional
    public Job cancel(UUID jobId, String by) {
        JobRepository.LockedJob job = jobs.lock(List.of(jobId)).get(jobId);
        if (job == null) {
            throw ApiException.notFound("JOB_NOT_FOUND", "No job with id " + jobId + ".");
        }
        JobFact.Cancelled cancel = new JobFact.Cancelled(by);
        // the state machine says whether the job can still be cancelled
        if (job.state().apply(cancel).isPresent()) {
            recorder.record(UUID.randomUUID(), jobId, cancel, Timestamps.now());
            outbox.add(Topics.JOB_CANCELLATIONS, jobId.toString(), JobCancelled.newBuilder()
                    .setEventId(UUID.randomUUID().toString()).setJobId(jobId.toString())
                    .setImageId(job.imageId().toString()).build().toByteArray(), Timestamps.now());
            images.deleteCancelled(job.imageId()); // wakes the outbox relay after the commit
        } else if (job.state().status() != JobStatus.CANCELLED) {
            throw new ApiException(HttpStatus.CONFLICT, "JOB_ENDED", "Job " + jobId + " has ended "
                    + job.state().status() + "; delete its image instead.", false);
        }
        return jobs.find(jobId).orElseThrow();
    }
}
