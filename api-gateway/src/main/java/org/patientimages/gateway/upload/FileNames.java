package org.patientimages.gateway.upload;

import java.nio.charset.StandardCharsets;

/**
 * Client file names are metadata only, never paths or keys. What is kept: the last path segment, without
 * control characters, NUL, bidi overrides or leading dots, at most 255 bytes of UTF-8.
 */
public final class FileNames {

    static final int MAX_BYTES = 255;

    private FileNames() {
    }

    /** The sanitised name, or {@code null} when nothing usable is left. */
    public static String sanitise(String name) {
        if (name == null) {
            return null;
        }
        String last = lastPart(name);
        StringBuilder kept = new StringBuilder(last.length());
        last.codePoints()
                .filter(c -> !Character.isISOControl(c) && !isBidiControl(c) && c != ':' && Character.isDefined(c))
                .forEach(kept::appendCodePoint);
        String clean = kept.toString().strip();
        while (clean.startsWith(".")) {
            clean = clean.substring(1);
        }
        clean = truncate(clean.strip(), MAX_BYTES);
        return clean.isEmpty() ? null : clean;
    }

    /** What follows the last {@code /} or {@code \\} of a path: a file's own name. */
    static String lastPart(String path) {
        return path.substring(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
    }

    private static boolean isBidiControl(int c) {
        return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F
                || c == 0x061C || c == 0xFEFF;
    }

    /** Cuts at a code point boundary so that the UTF-8 form fits. */
    private static String truncate(String s, int maxBytes) {
        if (s.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
            return s;
        }
        int bytes = 0;
        int end = 0;
        while (end < s.length()) {
            int c = s.codePointAt(end);
            int size = new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + size > maxBytes) {
                break;
            }
            bytes += size;
            end += Character.charCount(c);
        }
        return s.substring(0, end);
    }
}
