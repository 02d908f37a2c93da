package org.patientimages.worker.upload;

import com.google.protobuf.InvalidProtocolBufferException;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.UploadAccepted;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/** Unpacks an {@code UploadAccepted} event and hands it to the processor. */
@Component
class UploadListener {

    private final UploadProcessor processor;

    UploadListener(UploadProcessor processor) {
        this.processor = processor;
    }

    @KafkaListener(id = "uploads", topics = Topics.UPLOADS, groupId = "upload-workers",
            concurrency = "${patient-images.worker.concurrency:4}")
    void on(byte[] payload) throws InvalidProtocolBufferException {
        processor.process(UploadJob.of(UploadAccepted.parseFrom(payload)));
    }
}
