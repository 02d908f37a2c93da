package org.patientimages.metadata.job;

import org.patientimages.events.RequestIdHeader;

import io.micrometer.core.instrument.MeterRegistry;

import com.google.protobuf.InvalidProtocolBufferException;
import org.patientimages.events.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.patientimages.events.v1.JobEvent;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.listener.BatchListenerFailedException;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Unpacks the workers' job events and hands them to the recorder a poll at a time, so that a batch of events
 * costs one transaction (and one commit to disk), not one each. A record that cannot be decoded ends the batch:
 * the events before it are recorded, and the error handler commits their offsets and sends that record to
 * the dead-letter topic; the rest are delivered again.
 */
@Component
class JobEventListener {

    private final JobEventRecorder recorder;
    private final MeterRegistry registry;

    JobEventListener(JobEventRecorder recorder, MeterRegistry registry) {
        this.recorder = recorder;
        this.registry = registry;
    }

    @KafkaListener(id = "job-events", topics = Topics.JOB_EVENTS, groupId = "metadata-service", batch = "true")
    void on(List<ConsumerRecord<String, byte[]>> records) {
        List<JobEventRecorder.Fact> facts = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            try {
                JobEvent event = JobEvent.parseFrom(records.get(i).value());
                facts.add(new JobEventRecorder.Fact(UUID.fromString(event.getEventId()), UUID.fromString(event.getJobId()),
                        fact(event), Instant.ofEpochMilli(event.getOccurredAtEpochMs()), RequestIdHeader.of(records.get(i).headers())));
            } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
                recorder.recordAll(facts);
                throw new BatchListenerFailedException("job event cannot be decoded", e, i);
            }
        }
        recorder.recordAll(facts);
        facts.forEach(f -> registry.counter("job.events.recorded", "type", f.fact().getClass().getSimpleName()).increment());
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
