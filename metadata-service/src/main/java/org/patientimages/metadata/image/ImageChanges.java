package org.patientimages.metadata.image;

import org.patientimages.metadata.web.ApiException;

/** {@code PATCH /v1/images/{id}}: the fields given are changed, the others stay. */
public record ImageChanges(String name, String description) {

    static final int MAX_NAME = 255;
    static final int MAX_DESCRIPTION = 4000;

    ImageChanges validated() {
        if (name == null && description == null) {
            throw ApiException.badRequest("NOTHING_TO_CHANGE", "Give name, description or both.");
        }
        return new ImageChanges(text("name", name, MAX_NAME), text("description", description, MAX_DESCRIPTION));
    }

    private static String text(String field, String value, int max) {
        if (value == null) {
            return null;
        }
        String v = value.strip();
        if (v.length() > max) {
            throw ApiException.badRequest(field.toUpperCase() + "_TOO_LONG",
                    field + " must be at most " + max + " characters, was " + v.length() + ".");
        }
        if (v.codePoints().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\t')) {
            throw ApiException.badRequest("INVALID_" + field.toUpperCase(), field + " must not contain control characters.");
        }
        return v;
    }
}
