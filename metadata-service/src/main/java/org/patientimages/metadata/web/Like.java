package org.patientimages.metadata.web;

import java.util.Locale;

/**
 * Text searched for as a part of a column's lower-cased value, by {@code like}: a client's {@code %}, {@code _} and
 * {@code \} match themselves.
 */
public final class Like {

    private Like() {
    }

    /** The pattern for {@code lower(column) like ?} that finds {@code text} anywhere in the value. */
    public static String containing(String text) {
        return "%" + text.toLowerCase(Locale.ROOT).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    }
}
