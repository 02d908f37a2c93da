package org.patientimages.metadata.patient;

import org.patientimages.metadata.image.Image;

/**
 * A patient as the API shows it; {@code identifier}: the hospital's (its DICOM files' Patient ID), null when none was
 * given; {@code birthDate}: {@code YYYY-MM-DD}, null when none was given; {@code legalHold} is null unless an admin
 * has put the patient under one, and {@code deletion} null unless it is deleted (admins list those that can still be
 * restored).
 */
public record Patient(String patientId, String name, String username, String identifier, String birthDate,
                      String createdAt, long imageCount, LegalHold legalHold, Image.Deletion deletion) {

    /** Why, by whom and since when the patient's images may not be deleted. */
    public record LegalHold(String reason, String by, String at) {
    }
}
