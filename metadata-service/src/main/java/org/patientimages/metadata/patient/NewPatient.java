package org.patientimages.metadata.patient;

import org.patientimages.metadata.web.ApiException;

import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * A request to create a patient, checked before anything is written. {@code identifier} (optional): the patient's
 * identifier in the hospital, as its DICOM files carry it in Patient ID (0010,0020); {@code birthDate} (optional):
 * {@code YYYY-MM-DD}, the second identifier a clinician checks beside the name.
 */
public record NewPatient(String name, String username, String identifier, String birthDate) {

    static final int MAX_NAME = 200;
    static final int MAX_USERNAME = 64;
    /** A Patient ID is a DICOM long string (LO): at most 64 characters. */
    static final int MAX_IDENTIFIER = 64;
    private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._-]+");
    /** No one alive was born before this day. */
    private static final LocalDate EARLIEST_BIRTH = LocalDate.of(1880, 1, 1);

    /** Trims the fields and refuses blank, too long or malformed values with a precise detail. */
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
        return new NewPatient(n, u, identifier == null ? null : checkedIdentifier(identifier),
                birthDate == null ? null : checkedBirthDate(birthDate).toString());
    }

    /** A birth date: a day of the calendar ({@code YYYY-MM-DD}), not in the future and not before 1880. */
    static LocalDate checkedBirthDate(String value) {
        LocalDate date;
        try {
            date = LocalDate.parse(value.strip());
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest("INVALID_BIRTH_DATE", "birthDate must be a day of the calendar, YYYY-MM-DD.");
        }
        if (date.isAfter(LocalDate.now()) || date.isBefore(EARLIEST_BIRTH)) {
            // the date itself is patient data: not echoed
            throw ApiException.badRequest("INVALID_BIRTH_DATE", "birthDate must be between " + EARLIEST_BIRTH
                    + " and today.");
        }
        return date;
    }

    /**
     * An identifier as a DICOM file's Patient ID carries it: spaces around it are not part of it (PS3.5 §6.2, LO),
     * and it holds no backslash (a value separator) or control character.
     */
    static String checkedIdentifier(String value) {
        String trimmed = required("identifier", value, MAX_IDENTIFIER);
        if (trimmed.chars().anyMatch(c -> c == '\\' || Character.isISOControl(c))) {
            throw ApiException.badRequest("INVALID_IDENTIFIER",
                    "identifier must not contain a backslash or control characters (it is a DICOM Patient ID).");
        }
        return trimmed;
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
