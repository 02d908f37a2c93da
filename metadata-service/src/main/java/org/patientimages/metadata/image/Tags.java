package org.patientimages.metadata.image;

import org.patientimages.metadata.web.ApiException;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Tags are created on first use and normalised: trimmed, lower-case, 1-64 characters of letters, digits,
 * '-', '_', '.', ':'; at most 50 per image. The one place these rules live.
 */
public final class Tags {

    public static final int MAX_PER_IMAGE = 50;
    private static final Pattern TAG = Pattern.compile("[a-z0-9._:-]{1,64}");

    private Tags() {
    }

    /** The tags normalised and without repeats, or 400 with {@code code} naming the first bad one. */
    public static List<String> normalise(Collection<String> tags, String code) {
        Set<String> normalised = new LinkedHashSet<>();
        for (String tag : tags == null ? List.<String>of() : tags) {
            normalised.add(normalise(tag, code));
        }
        requireAtMostMax(normalised.size(), code);
        return new ArrayList<>(normalised);
    }

    public static String normalise(String tag, String code) {
        if (tag == null) {
            throw ApiException.badRequest(code, "tags must be strings.");
        }
        String t = tag.strip().toLowerCase(Locale.ROOT);
        if (!TAG.matcher(t).matches()) {
            String shown = tag.length() > 70 ? tag.substring(0, 70) + "…" : tag;
            throw ApiException.badRequest(code, "tag '" + shown.replaceAll("\\p{Cntrl}", "?")
                    + "' must be 1-64 characters of letters, digits, '-', '_', '.', ':'.");
        }
        return t;
    }

    public static void requireAtMostMax(int count, String code) {
        if (count > MAX_PER_IMAGE) {
            throw ApiException.badRequest(code, "at most " + MAX_PER_IMAGE + " tags per image, got " + count + ".");
        }
    }
}
