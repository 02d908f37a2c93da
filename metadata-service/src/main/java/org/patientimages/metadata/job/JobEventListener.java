package org.patientimages.metadata.job;

import com.google.protobuf.InvalidProtocolBufferException;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.JobEvent;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.UUID;

/** Unpacks the workers' job events and hands each to the recorder. */
@Component
class JobEventListener {

    private final JobEventRecorder recorder;

    JobEventListener(JobEventRecorder recorder) {
        this.recorder = recorder;
    }

    @KafkaListener(id = "job-events", topics = Topics.JOB_EVENTS, groupId = "metadata-service")
    void on(byte[] payload) throws InvalidProtocolBufferException {
        JobEvent event = JobEvent.parseFrom(payload);
        recorder.record(UUID.fromString(event.getEventId()), UUID.fromString(event.getJobId()), fact(event),
                Instant.ofEpochMilli(event.getOccurredAtEpochMs()));
    }

    static JobFact fact(JobEvent e) throws InvalidProtocolBufferException {
        return switch (e.getFactCase()) {
            case STARTED -> new JobFact.Started(e.getStarted().getWorkerId());
            case PROGRESSED -> new JobFact.Progressed(e.getProgressed().getPercent(), e.getProgressed().getBytesStored());
            case STORED -> new JobFact.Stored(e.getStored().getBucket(), e.getStored().getObjectKey(),
                    e.getStored().getSizeBytes(), e.getStored().getSha256());
            case SUCCEEDED -> new JobFact.Succeeded();
            case ATTRIBUTES_EXTRACTED -> new JobFact.AttributesExtracted(e.getAttributesExtracted().getAttributesJson());
            case THUMBNAIL_RENDERED -> new JobFact.ThumbnailRendered(e.getThumbnailRendered().getObjectKey(),
                    e.getThumbnailRendered().getWidth(), e.getThumbnailRendered().getHeight());
            case STEP_SKIPPED -> new JobFact.StepSkipped(e.getStepSkipped().getStep(), e.getStepSkipped().getReason());
            case FAILED -> new JobFact.Failed(e.getFailed().getCode(), e.getFailed().getMessage(),
                    e.getFailed().getRetryable());
            case RETRY_SCHEDULED -> new JobFact.RetryScheduled(e.getRetryScheduled().getReason(),
                    e.getRetryScheduled().getBackoffMs());
            case FACT_NOT_SET -> throw new InvalidProtocolBufferException("job event " + e.getEventId() + " has no fact");
        };
    }
}
