package org.patientimages.worker.upload;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.patientimages.events.RequestIdHeader;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.MDC;

import com.google.protobuf.InvalidProtocolBufferException;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.UploadAccepted;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/** Unpacks an {@code UploadAccepted} event and hands it to the processor. */
@Component
class UploadListener {

    private final UploadProcessor processor;
    private final MeterRegistry registry;

    UploadListener(UploadProcessor processor, MeterRegistry registry) {
        this.processor = processor;
        this.registry = registry;
    }

    @KafkaListener(id = "uploads", topics = Topics.UPLOADS, groupId = "upload-workers",
            concurrency = "${patient-images.worker.concurrency:4}")
    void on(ConsumerRecord<String, byte[]> record) throws InvalidProtocolBufferException {
        UploadJob job = UploadJob.of(UploadAccepted.parseFrom(record.value()));
        String requestId = RequestIdHeader.of(record.headers());
        Timer.Sample sample = Timer.start(registry);
        String outcome = "error";
        // the job and the API request it came from, in every log line of this job (and on its job events)
        try (var jobInLogs = MDC.putCloseable("jobId", job.jobId());
             MDC.MDCCloseable requestInLogs = requestId == null ? null : MDC.putCloseable("requestId", requestId)) {
            outcome = processor.process(job) ? "succeeded" : "cancelled";
        } finally {
            // one attempt: "error" attempts are retried or end FAILED (upload.jobs counts the endings)
            sample.stop(Timer.builder("upload.job.duration").description("Time a worker spends on one attempt of a job")
                    .tag("outcome", outcome).publishPercentileHistogram().register(registry));
        }
    }
}
