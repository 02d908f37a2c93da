package org.patientimages.metadata.image;

import com.fasterxml.jackson.annotation.JsonRawValue;

import java.util.List;

/**
 * An image as the internal API shows it; {@code attributes} is what the worker read from the bytes
 * (width, height, EXIF capture time and device, DICOM identifiers), a JSON object; {@code takenOn} the date the
 * image was taken as they tell it (a DICOM StudyDate, else an EXIF capture time's date; null without either).
 * {@code duplicateOf} names an earlier image of the patient with the same bytes. {@code bucket}, {@code objectKey} and
 * {@code thumbnailKey} are for the gateway to presign downloads; the gateway never shows them to clients.
 * {@code integrity} is the outcome of the last time a worker read the stored bytes back and checked them;
 * {@code derivation} tells when the attributes and thumbnail were last read again from them, at an admin's request.
 * {@code deletion} is null for a live image; a deleted one (listed to admins) tells until when it can be restored.
 */
public record Image(String imageId, String patientId, String name, String description, List<String> tags,
                    String status, String originalFilename, String contentType, long sizeBytes, String sha256,
                    String uploadedAt, String storedAt, String takenOn, @JsonRawValue String attributes,
                    String duplicateOf,
                    Integrity integrity, Derivation derivation, Deletion deletion, String bucket, String objectKey,
                    String thumbnailKey) {

    /**
     * @param status           {@code UNCHECKED} until the first check, then {@code INTACT}, {@code CORRUPT} (size or
     *                         SHA-256 differ from what was stored) or {@code MISSING} (no object)
     * @param checkedAt        when the last check read the object
     * @param checkRequestedAt when a check not answered yet was asked for, null when none waits
     */
    public record Integrity(String status, String checkedAt, String checkRequestedAt) {
    }

    /**
     * @param requestedAt when deriving again was asked for and has not been answered yet; null when none waits
     * @param derivedAt   when the attributes and thumbnail were last read again from the intact stored bytes; null
     *                    when they are the ones read when the image was stored
     */
    public record Derivation(String requestedAt, String derivedAt) {
    }

    /**
     * @param deletedAt       when the image (or its patient) was deleted
     * @param restorableUntil until when an admin may restore it; its objects are removed then
     */
    public record Deletion(String deletedAt, String restorableUntil) {
    }
}
