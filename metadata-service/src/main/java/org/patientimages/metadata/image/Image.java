package org.patientimages.metadata.image;

import java.util.List;

/**
 * An image as the internal API shows it. {@code bucket} and {@code objectKey} are for the gateway to
 * presign downloads; the gateway never shows them to clients.
 */
public record Image(String imageId, String patientId, String name, String description, List<String> tags,
                    String status, String originalFilename, String contentType, long sizeBytes, String sha256,
                    String uploadedAt, String storedAt, String bucket, String objectKey) {
}
