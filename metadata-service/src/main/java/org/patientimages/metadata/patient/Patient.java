package org.patientimages.metadata.patient;

/** A patient as the API shows it; {@code legalHold} is null unless an admin has put the patient under one. */
public record Patient(String patientId, String name, String username, String createdAt, long imageCount,
                      LegalHold legalHold) {

    /** Why, by whom and since when the patient's images may not be deleted. */
    public record LegalHold(String reason, String by, String at) {
    }
}
