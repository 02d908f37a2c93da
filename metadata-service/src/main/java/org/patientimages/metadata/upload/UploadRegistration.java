package org.patientimages.metadata.upload;

import java.util.List;
import java.util.UUID;

/**
 * What the gateway knows of an upload once its bytes are staged. The gateway generated the ids and the
 * staging key and checked the client's metadata; size, checksum and content type come from the bytes.
 * {@code declaredSha256} is the checksum the client declared, if any.
 */
public record UploadRegistration(UUID jobId, UUID imageId, UUID patientId, String name, String description,
                                 List<String> tags, String originalFilename, String contentType, long sizeBytes,
                                 String sha256, String declaredSha256, String stagingKey, String idempotencyKey) {

    /** The client declared a checksum and the bytes do not have it. */
    boolean checksumMismatch() {
        return declaredSha256 != null && !declaredSha256.equals(sha256);
    }
}
