package org.patientimages.worker.integrity;

import io.micrometer.core.instrument.MeterRegistry;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.Derivation;
import org.patientimages.events.v1.IntegrityCheckRequested;
import org.patientimages.events.v1.IntegrityChecked;
import org.patientimages.events.v1.IntegrityChecked.Outcome;
import org.patientimages.events.v1.StepSkipped;
import org.patientimages.events.v1.ThumbnailRendered;
import org.patientimages.worker.report.EventPublisher;
import org.patientimages.worker.storage.ObjectStore;
import org.patientimages.worker.upload.Derivatives;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reads an image's stored object through and tells whether its bytes are still the ones stored: the size and
 * SHA-256 recorded against what is read. A request to derive also has the image's attributes read and its
 * thumbnail rendered again from the bytes read, when they are intact (the object is then read into a temporary
 * file, removed afterwards); what each step made or why it was skipped goes with the answer. One check at a time
 * per worker by default (each reads a whole object), beside the uploads; {@code integrity-concurrency} more, for a
 * large batch of derivations. An object store that does not answer is retried with the worker's back-off, never
 * reported as a missing object; the answer is published before the request's offset is committed, so a crash means
 * a second check, not a lost one.
 */
@Component
class IntegrityCheckListener {

    private static final Logger log = LoggerFactory.getLogger(IntegrityCheckListener.class);
    private static final Pattern IMAGE_KEY = Pattern.compile("images/([0-9a-f-]{36})/original");

    private final ObjectStore store;
    private final Derivatives derivatives;
    private final EventPublisher publisher;
    private final JsonMapper json;
    private final MeterRegistry registry;

    IntegrityCheckListener(ObjectStore store, Derivatives derivatives, EventPublisher publisher, JsonMapper json,
                           MeterRegistry registry) {
        this.store = store;
        this.derivatives = derivatives;
        this.json = json;
        this.publisher = publisher;
        this.registry = registry;
        for (Outcome outcome : List.of(Outcome.INTACT, Outcome.CORRUPT, Outcome.MISSING)) {
            registry.counter("integrity.checks", "outcome", outcome.name());
        }
    }

    @KafkaListener(id = "integrity-checks", topics = Topics.INTEGRITY_CHECKS, groupId = "upload-workers-integrity",
            concurrency = "${patient-images.worker.integrity-concurrency:1}")
    void on(byte[] payload) throws IOException {
        IntegrityCheckRequested request = IntegrityCheckRequested.parseFrom(payload);
        var key = IMAGE_KEY.matcher(request.getObjectKey());
        if (!key.matches() || !key.group(1).equals(UUID.fromString(request.getImageId()).toString())) {
            throw new IllegalArgumentException("not the object of image " + request.getImageId());
        }
        IntegrityChecked.Builder result = IntegrityChecked.newBuilder().setEventId(UUID.randomUUID().toString())
                .setImageId(request.getImageId()).setRequestEventId(request.getEventId())
                .setRequestedAtEpochMs(request.getRequestedAtEpochMs()).setWorkerId(EventPublisher.WORKER_ID);
        if (request.getDerive() && Derivatives.reads(request.getContentType())) {
            Path copy = Files.createTempFile("derive-", ".bin");
            try {
                check(request, store.fingerprint(request.getBucket(), request.getObjectKey(), copy), result);
                result.setDerivation(result.getOutcome() == Outcome.INTACT ? derive(request, copy)
                        : Derivation.getDefaultInstance());
            } finally {
                Files.deleteIfExists(copy);
            }
        } else {
            check(request, store.fingerprint(request.getBucket(), request.getObjectKey()), result);
            if (request.getDerive()) {
                result.setDerivation(Derivation.getDefaultInstance());
            }
        }
        IntegrityChecked checked = result.setCheckedAtEpochMs(System.currentTimeMillis()).build();
        publisher.publish(Topics.INTEGRITY_RESULTS, checked.getImageId(), checked.toByteArray(),
                "the integrity check of image " + checked.getImageId());
        registry.counter("integrity.checks", "outcome", checked.getOutcome().name()).increment();
        if (checked.getOutcome() != Outcome.INTACT) {
            log.warn("image {}: integrity check found the object {}", checked.getImageId(), checked.getOutcome());
        }
    }

    private static void check(IntegrityCheckRequested request, Optional<ObjectStore.Fingerprint> read,
                              IntegrityChecked.Builder result) {
        read.ifPresentOrElse(found -> result
                .setOutcome(found.sizeBytes() == request.getSizeBytes() && found.sha256().equals(request.getSha256())
                        ? Outcome.INTACT : Outcome.CORRUPT)
                .setSizeBytesFound(found.sizeBytes()).setSha256Found(found.sha256()),
                () -> result.setOutcome(Outcome.MISSING));
    }

    /** Attributes and thumbnail from the intact bytes read; a store down while the thumbnail is put is retried. */
    private Derivation derive(IntegrityCheckRequested request, Path file) {
        Derivation.Builder derivation = Derivation.newBuilder();
        Derivatives.Sink sink = new Derivatives.Sink() {
            @Override
            public void attributes(Map<String, Object> attributes) {
                derivation.setAttributesJson(json.writeValueAsString(attributes));
            }

            @Override
            public void thumbnail(String key, int width, int height) {
                derivation.setThumbnail(ThumbnailRendered.newBuilder().setObjectKey(key).setWidth(width)
                        .setHeight(height));
            }

            @Override
            public void skipped(String step, String reason) {
                derivation.addSkipped(StepSkipped.newBuilder().setStep(step).setReason(reason));
            }
        };
        derivatives.derive(file, request.getContentType(), request.getImageId(), sink);
        return derivation.build();
    }
}
