package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The optional {@code metadata} part of an upload, as the client sent it. {@link #validated()} normalises
 * it or refuses it with {@code 400 INVALID_METADATA} and a detail that names the field.
 */
public record UploadMetadata(String name, String description, List<String> tags, String sha256) {

    static final int MAX_NAME = 255;
    static final int MAX_DESCRIPTION = 4000;
    static final int MAX_TAGS = 50;
    private static final Pattern TAG = Pattern.compile("[a-z0-9._:-]{1,64}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public static final UploadMetadata NONE = new UploadMetadata(null, null, List.of(), null);

    public UploadMetadata validated() {
        String n = text("name", name, MAX_NAME);
        String d = text("description", description, MAX_DESCRIPTION);
        Set<String> normalised = new LinkedHashSet<>();
        for (String tag : tags == null ? List.<String>of() : tags) {
            if (tag == null) {
                throw invalid("tags must be strings.");
            }
            String t = tag.strip().toLowerCase(Locale.ROOT);
            if (!TAG.matcher(t).matches()) {
                throw invalid("tag '" + printable(tag) + "' must be 1-64 characters of letters, digits, '-', '_', '.', ':'.");
            }
            normalised.add(t);
        }
        if (normalised.size() > MAX_TAGS) {
            throw invalid("at most " + MAX_TAGS + " tags per image, got " + normalised.size() + ".");
        }
        String sum = null;
        if (sha256 != null) {
            sum = sha256.strip().toLowerCase(Locale.ROOT);
            if (!SHA256.matcher(sum).matches()) {
                throw invalid("sha256 must be 64 hexadecimal characters.");
            }
        }
        return new UploadMetadata(n, d, new ArrayList<>(normalised), sum);
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

    private static String printable(String s) {
        String cut = s.length() > 70 ? s.substring(0, 70) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("INVALID_METADATA", detail);
    }
}
