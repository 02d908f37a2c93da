package org.patientimages.worker.upload;

import com.google.protobuf.InvalidProtocolBufferException;
import org.patientimages.events.Topics;
import org.patientimages.events.v1.ImageDeleted;
import org.patientimages.worker.storage.ObjectStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/** Removes a deleted image's objects from the bucket; doing it twice is harmless. */
@Component
class ImageDeletionListener {

    private static final Logger log = LoggerFactory.getLogger(ImageDeletionListener.class);
    private static final java.util.regex.Pattern PREFIX = java.util.regex.Pattern.compile("images/[0-9a-f-]{36}/");

    private final ObjectStore store;

    ImageDeletionListener(ObjectStore store) {
        this.store = store;
    }

    @KafkaListener(id = "image-deletions", topics = Topics.IMAGE_DELETIONS, groupId = "upload-workers-deletions")
    void on(byte[] payload) throws InvalidProtocolBufferException {
        ImageDeleted event = ImageDeleted.parseFrom(payload);
        if (!PREFIX.matcher(event.getObjectPrefix()).matches()) {
            throw new IllegalArgumentException("not an image prefix: " + event.getObjectPrefix());
        }
        int n = store.deleteAll(event.getObjectPrefix());
        log.info("image {} deleted: {} object(s) removed", event.getImageId(), n);
    }
}
