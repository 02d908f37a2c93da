package org.patientimages.gateway.dicom;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The value representation of each tag of PS3.6's data dictionary, for data sets in implicit VR, whose elements do
 * not name theirs. The table is made from DCMTK's dictionary by {@code infra/dicom/make-dictionary}.
 */
final class DicomDictionary {

    private static final Map<Integer, String> EXACT = new HashMap<>();
    /** Repeating groups (6000-60FF: {@code 60XX…}) and element ranges, by the tag with its range's low byte 0. */
    private static final Map<Integer, String> RANGES = new HashMap<>();

    static {
        try (InputStream in = DicomDictionary.class.getResourceAsStream("/dicom/value-representations.tsv");
             BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (line.startsWith("#")) {
                    continue;
                }
                String tag = line.substring(0, 8);
                String vr = line.substring(9);
                if (tag.contains("XX")) {
                    RANGES.put(Integer.parseUnsignedInt(tag.replace("XX", "00"), 16), vr);
                } else {
                    EXACT.put(Integer.parseUnsignedInt(tag, 16), vr);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private DicomDictionary() {
    }

    /**
     * The tag's VR: from the dictionary ({@code xs}, US or SS, as {@code signedPixels} says), {@code LO} for a
     * private creator, {@code UL} for a group length, {@code UN} for what it does not know (private elements).
     */
    static String vr(int tag, boolean signedPixels) {
        String vr = EXACT.get(tag);
        boolean isPrivate = (tag >>> 16 & 1) == 1;
        if (vr == null && !isPrivate) {
            vr = RANGES.getOrDefault(tag & 0xFF00FFFF, RANGES.get(tag & 0xFFFFFF00));
        }
        if (vr == null) {
            int element = tag & 0xFFFF;
            return element == 0 ? "UL" : isPrivate && element >= 0x10 && element <= 0xFF ? "LO" : "UN";
        }
        return vr.equals("xs") ? (signedPixels ? "SS" : "US") : vr;
    }
}
