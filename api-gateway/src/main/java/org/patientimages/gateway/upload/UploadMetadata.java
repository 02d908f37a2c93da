package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The optional {@code metadata} part of an upload, as the client sent it. {@link #validated()} trims it or
 * refuses it with {@code 400 INVALID_METADATA} and a detail that names the field.
 */
public record UploadMetadata(String name, String description, List<String> tags, String sha256) {

    static final int MAX_NAME = 255;
    static final int MAX_DESCRIPTION = 4000;
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public static final UploadMetadata NONE = new UploadMetadata(null, null, List.of(), null);

    public UploadMetadata validated() {
        String n = text("name", name, MAX_NAME);
        String d = text("description", description, MAX_DESCRIPTION);
        String sum = null;
        if (sha256 != null) {
            sum = sha256.strip().toLowerCase(Locale.ROOT);
            if (!SHA256.matcher(sum).matches()) {
                throw invalid("sha256 must be 64 hexadecimal characters.");
            }
        }
        // tags are checked where their rules live, by the metadata-service, when the upload is recorded
        return new UploadMetadata(n, d, tags == null ? List.of() : tags, sum);
    }

    private static String text(String field, String value, int max) {
        if (value == null) {
            return null;
        }
        String v = value.strip();
        if (v.length() > max) {
            throw invalid(field + " must be at most " + max + " characters, was " + v.length() + ".");
        }
        if (v.codePoints().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\t')) {
            throw invalid(field + " must not contain control characters.");
        }
        return v.isEmpty() ? null : v;
    }


    static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("INVALID_METADATA", detail);
    }
}
