package org.patientimages.metadata.upload;

import java.util.List;
import java.util.UUID;

/**
 * What the gateway knows of an upload once its bytes are staged. The gateway generated the ids and the
 * staging key and checked the client's metadata; size, checksum and content type come from the bytes.
 */
public record UploadRegistration(UUID jobId, UUID imageId, UUID patientId, String name, String description,
                                 List<String> tags, String originalFilename, String contentType, long sizeBytes,
                                 String sha256, String stagingKey, String idempotencyKey) {
}
