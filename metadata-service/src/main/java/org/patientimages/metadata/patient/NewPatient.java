package org.patientimages.metadata.patient;

import org.patientimages.metadata.web.ApiException;

import java.util.regex.Pattern;

/** A request to create a patient, checked before anything is written. */
public record NewPatient(String name, String username) {

    static final int MAX_NAME = 200;
    static final int MAX_USERNAME = 64;
    private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._-]+");

    /** Trims both fields and refuses blank, too long or malformed values with a precise detail. */
    public NewPatient validated() {
        String n = required("name", name, MAX_NAME);
        String u = required("username", username, MAX_USERNAME);
        if (!USERNAME.matcher(u).matches()) {
            throw ApiException.badRequest("INVALID_USERNAME",
                    "username may contain only letters, digits, '.', '_' and '-'.");
        }
        if (n.chars().anyMatch(Character::isISOControl)) {
            throw ApiException.badRequest("INVALID_NAME", "name must not contain control characters.");
        }
        return new NewPatient(n, u);
    }

    private static String required(String field, String value, int max) {
        if (value == null || value.isBlank()) {
            throw ApiException.badRequest("MISSING_" + field.toUpperCase(), field + " is required and must not be blank.");
        }
        String trimmed = value.strip();
        if (trimmed.length() > max) {
            throw ApiException.badRequest(field.toUpperCase() + "_TOO_LONG",
                    field + " must be at most " + max + " characters, was " + trimmed.length() + ".");
        }
        return trimmed;
    }
}
