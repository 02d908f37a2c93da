package org.patientimages.metadata.image;

import com.fasterxml.jackson.annotation.JsonRawValue;

import java.util.List;

/**
 * An image as the internal API shows it; {@code attributes} is what the worker read from the bytes
 * (width, height, EXIF capture time and device, DICOM identifiers), a JSON object. {@code duplicateOf} names
 * an earlier image of the patient with the same bytes. {@code bucket}, {@code objectKey} and
 * {@code thumbnailKey} are for the gateway to presign downloads; the gateway never shows them to clients.
 */
public record Image(String imageId, String patientId, String name, String description, List<String> tags,
                    String status, String originalFilename, String contentType, long sizeBytes, String sha256,
                    String uploadedAt, String storedAt, @JsonRawValue String attributes, String duplicateOf,
                    String bucket, String objectKey, String thumbnailKey) {
}
