package org.patientimages.metadata.patient;

/** A patient as the API shows it. */
public record Patient(String patientId, String name, String username, String createdAt, long imageCount) {
}
