package org.patientimages.worker.report;

import org.patientimages.events.Topics;
import org.patientimages.events.v1.AttributesExtracted;
import org.patientimages.events.v1.ImageStored;
import org.patientimages.events.v1.JobEvent;
import org.patientimages.events.v1.JobFailed;
import org.patientimages.events.v1.JobProgressed;
import org.patientimages.events.v1.JobStarted;
import org.patientimages.events.v1.JobSucceeded;
import org.patientimages.events.v1.RetryScheduled;
import org.patientimages.events.v1.StepSkipped;
import org.patientimages.events.v1.ThumbnailRendered;
import org.patientimages.worker.upload.FailureCode;
import org.patientimages.worker.upload.JobReporter;
import org.patientimages.worker.upload.UploadJob;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

import java.util.UUID;

/** Publishes job facts to the job-events topic, keyed by job id, and waits for Kafka's acknowledgement. */
@Component
class KafkaJobReporter implements JobReporter {

    private final EventPublisher publisher;
    private final JsonMapper json;

    KafkaJobReporter(EventPublisher publisher, JsonMapper json) {
        this.publisher = publisher;
        this.json = json;
    }

    @Override
    public void started(UploadJob job) {
        publish(event(job.jobId(), job.imageId()).setStarted(JobStarted.newBuilder().setWorkerId(EventPublisher.WORKER_ID)));
    }

    @Override
    public void progressed(UploadJob job, int percent, long bytesStored) {
        publish(event(job.jobId(), job.imageId())
                .setProgressed(JobProgressed.newBuilder().setPercent(percent).setBytesStored(bytesStored)));
    }

    @Override
    public void stored(UploadJob job, String bucket, long sizeBytes, String sha256) {
        publish(event(job.jobId(), job.imageId()).setStored(ImageStored.newBuilder()
                .setBucket(bucket).setObjectKey(job.objectKey()).setSizeBytes(sizeBytes).setSha256(sha256)
                .setContentType(job.contentType())));
    }

    @Override
    public void attributesExtracted(UploadJob job, java.util.Map<String, Object> attributes) {
        publish(event(job.jobId(), job.imageId()).setAttributesExtracted(
                AttributesExtracted.newBuilder().setAttributesJson(json.writeValueAsString(attributes))));
    }

    @Override
    public void thumbnailRendered(UploadJob job, String objectKey, int width, int height) {
        publish(event(job.jobId(), job.imageId()).setThumbnailRendered(ThumbnailRendered.newBuilder()
                .setObjectKey(objectKey).setWidth(width).setHeight(height)));
    }

    @Override
    public void stepSkipped(UploadJob job, String step, String reason) {
        publish(event(job.jobId(), job.imageId()).setStepSkipped(StepSkipped.newBuilder()
                .setStep(step).setReason(reason)));
    }

    @Override
    public void succeeded(UploadJob job) {
        publish(event(job.jobId(), job.imageId()).setSucceeded(JobSucceeded.getDefaultInstance()));
    }

    @Override
    public void failed(String jobId, String imageId, FailureCode code, String message) {
        publish(event(jobId, imageId).setFailed(JobFailed.newBuilder()
                .setCode(code.name()).setMessage(message).setRetryable(code.retryable())));
    }

    @Override
    public void retryScheduled(String jobId, String imageId, String reason, long backoffMs) {
        publish(event(jobId, imageId).setRetryScheduled(RetryScheduled.newBuilder()
                .setReason(reason).setBackoffMs(backoffMs)));
    }

    private static JobEvent.Builder event(String jobId, String imageId) {
        return JobEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setJobId(jobId)
                .setImageId(imageId)
                .setOccurredAtEpochMs(System.currentTimeMillis());
    }

    private void publish(JobEvent.Builder event) {
        JobEvent e = event.build();
        publisher.publish(Topics.JOB_EVENTS, e.getJobId(), e.toByteArray(), "an event of job " + e.getJobId());
    }
}
