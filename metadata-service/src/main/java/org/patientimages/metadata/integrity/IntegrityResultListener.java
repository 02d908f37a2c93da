package org.patientimages.metadata.integrity;

import com.google.protobuf.InvalidProtocolBufferException;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.IntegrityChecked;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Records the workers' integrity check results, and with each answer asks for the next due checks, so that the
 * checks run as fast as the workers read them, at most {@code in-flight} at once (the scheduler's interval only
 * starts them and mends lost answers). A record that cannot be decoded goes to the dead-letter topic.
 */
@Component
class IntegrityResultListener {

    private final IntegrityChecks checks;

    IntegrityResultListener(IntegrityChecks checks) {
        this.checks = checks;
    }

    @KafkaListener(id = "integrity-results", topics = Topics.INTEGRITY_RESULTS, groupId = "metadata-service-integrity")
    void on(byte[] payload) throws InvalidProtocolBufferException {
        checks.record(IntegrityChecked.parseFrom(payload));
        checks.requestDue();
    }
}
