package org.patientimages.metadata.integrity;

import com.google.protobuf.InvalidProtocolBufferException;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.IntegrityChecked;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/** Records the workers' integrity check results; a record that cannot be decoded goes to the dead-letter topic. */
@Component
class IntegrityResultListener {

    private final IntegrityChecks checks;

    IntegrityResultListener(IntegrityChecks checks) {
        this.checks = checks;
    }

    @KafkaListener(id = "integrity-results", topics = Topics.INTEGRITY_RESULTS, groupId = "metadata-service-integrity")
    void on(byte[] payload) throws InvalidProtocolBufferException {
        checks.record(IntegrityChecked.parseFrom(payload));
    }
}
