package org.patientimages.gateway.web;

import org.springframework.http.MediaType;

import java.util.regex.Pattern;

/** Media types as clients write them, made parseable; and DICOMweb's body of DICOM files. */
public final class MediaTypes {

    /** A parameter whose value holds a slash but no quotes: {@code type=application/dicom}. */
    private static final Pattern UNQUOTED_SLASH =
            Pattern.compile("(;\\s*[A-Za-z0-9!#$&^_.+-]+=)([^\";,\\s]*/[^\";,\\s]*)");

    private static final MediaType RELATED = MediaType.parseMediaType("multipart/related");
    private static final MediaType DICOM = MediaType.parseMediaType("application/dicom");

    private MediaTypes() {
    }

    /**
     * Whether a media type is {@code multipart/related} of DICOM files: its {@code type} parameter
     * {@code application/dicom}, or none (in any case, quoted or not).
     */
    public static boolean isDicomParts(MediaType type) {
        return isRelated(type, DICOM);
    }

    /**
     * Whether a media type is {@code multipart/related} of {@code parts}: its {@code type} parameter that, or none
     * (in any case, quoted or not).
     */
    public static boolean isRelated(MediaType type, MediaType parts) {
        String named = type.getParameter("type");
        if (!RELATED.equalsTypeAndSubtype(type)) {
            return false;
        }
        try {
            return named == null || parts.equalsTypeAndSubtype(MediaType.parseMediaType(named.replace("\"", "")));
        } catch (org.springframework.http.InvalidMediaTypeException e) {
            return false;
        }
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
