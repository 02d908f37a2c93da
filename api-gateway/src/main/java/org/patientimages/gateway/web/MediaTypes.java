package org.patientimages.gateway.web;

import java.util.regex.Pattern;

/** Media types as clients write them, made parseable. */
public final class MediaTypes {

    /** A parameter whose value holds a slash but no quotes: {@code type=application/dicom}. */
    private static final Pattern UNQUOTED_SLASH =
            Pattern.compile("(;\\s*[A-Za-z0-9!#$&^_.+-]+=)([^\";,\\s]*/[^\";,\\s]*)");

    private MediaTypes() {
    }

    /**
     * The media type (or an {@code Accept} list) with any parameter value that holds a slash quoted: RFC 2045 wants
     * {@code type="application/dicom"}, and Spring's parser refuses it unquoted, but DICOMweb clients send both.
     * Null stays null.
     */
    public static String lenient(String mediaType) {
        return mediaType == null ? null : UNQUOTED_SLASH.matcher(mediaType).replaceAll("$1\"$2\"");
    }
}
