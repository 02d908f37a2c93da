package org.patientimages.gateway.image;

import org.patientimages.gateway.web.ApiProblem;
import org.springframework.util.MultiValueMap;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the service knows of a patient's DICOM studies, series and instances in the DICOM JSON model (PS3.18 §F.2),
 * for the DICOMweb search (QIDO-RS), and the matching of a search's keys against it. Built from the studies'
 * grouping and the attributes the workers read from each file, so only those attributes are there; the workers
 * read no names, and a study's Patient's Name is that of the service's patient it is filed under. Pure: no HTTP, no
 * store.
 */
public final class DicomJson {

    static final String STUDY_DATE = "00080020";
    static final String MODALITIES_IN_STUDY = "00080061";
    static final String MODALITY = "00080060";
    static final String SOP_CLASS_UID = "00080016";
    static final String SOP_INSTANCE_UID = "00080018";
    static final String STUDY_INSTANCE_UID = "0020000D";
    static final String SERIES_INSTANCE_UID = "0020000E";
    static final String INSTANCE_NUMBER = "00200013";
    private static final String RETRIEVE_URL = "00081190";
    static final String PATIENT_ID = "00100020";
    static final String PATIENT_NAME = "00100010";
    static final String PATIENT_BIRTH_DATE = "00100030";
    /** Dates, matched as a day or a range of days. */
    private static final Set<String> DATES = Set.of(STUDY_DATE, PATIENT_BIRTH_DATE);
    static final String ACCESSION_NUMBER = "00080050";
    static final String STUDY_DESCRIPTION = "00081030";
    static final String SERIES_DESCRIPTION = "0008103E";
    /** Free text, matched whatever its case and with PS3.4's wildcards ({@code *}, {@code ?}), one value a key. */
    private static final Set<String> TEXTS = Set.of(PATIENT_NAME, ACCESSION_NUMBER, STUDY_DESCRIPTION,
            SERIES_DESCRIPTION);
    static final String SERIES_NUMBER = "00200011";
    private static final String STUDY_SERIES = "00201206";
    private static final String STUDY_INSTANCES = "00201208";
    private static final String SERIES_INSTANCES = "00201209";
    private static final String ROWS = "00280010";
    private static final String COLUMNS = "00280011";
    private static final String TRANSFER_SYNTAX = "00083002"; // Available Transfer Syntax UID

    /** What a search may match at one level, by keyword (its tag, upper-case hex, is taken too). */
    enum Level {
        STUDY(Map.of("StudyInstanceUID", STUDY_INSTANCE_UID, "StudyDate", STUDY_DATE,
                "ModalitiesInStudy", MODALITIES_IN_STUDY, "PatientID", PATIENT_ID, "PatientName", PATIENT_NAME,
                "StudyDescription", STUDY_DESCRIPTION, "AccessionNumber", ACCESSION_NUMBER,
                "PatientBirthDate", PATIENT_BIRTH_DATE)),
        SERIES(Map.of("SeriesInstanceUID", SERIES_INSTANCE_UID, "Modality", MODALITY, "SeriesNumber", SERIES_NUMBER,
                "SeriesDescription", SERIES_DESCRIPTION)),
        INSTANCE(Map.of("SOPInstanceUID", SOP_INSTANCE_UID, "SOPClassUID", SOP_CLASS_UID,
                "InstanceNumber", INSTANCE_NUMBER)),
        /** Instances at a root, not under a study: their study and series are keys too. */
        ANY_INSTANCE(Map.of("SOPInstanceUID", SOP_INSTANCE_UID, "SOPClassUID", SOP_CLASS_UID,
                "InstanceNumber", INSTANCE_NUMBER, "StudyInstanceUID", STUDY_INSTANCE_UID,
                "SeriesInstanceUID", SERIES_INSTANCE_UID));

        private final Map<String, String> keys;

        Level(Map<String, String> keys) {
            this.keys = keys;
        }
    }

    /** A search's matching keys (tag to value), and its {@code offset} and {@code limit} (-1: none). */
    record Query(Map<String, String> matching, int offset, int limit) {

        /**
         * The keys a search across patients is narrowed by before the rest are matched, as the metadata-service's
         * parameters: {@code patientIdentifier}, {@code studyInstanceUid} (each of a list), {@code takenFrom} and
         * {@code takenTo} (a StudyDate's range, as dates).
         */
        Map<String, List<String>> narrowing() {
            Map<String, List<String>> parameters = new LinkedHashMap<>();
            String identifier = matching.get(PATIENT_ID);
            if (identifier != null && !identifier.isEmpty()) {
                parameters.put("patientIdentifier", List.of(identifier));
            }
            String uids = matching.get(STUDY_INSTANCE_UID);
            if (uids != null && !uids.isEmpty()) {
                parameters.put("studyInstanceUid", List.of(uids.split("[,\\\\]")));
            }
            String date = matching.get(STUDY_DATE);
            if (date != null && !date.isEmpty()) {
                String from = date.contains("-") ? date.substring(0, date.indexOf('-')) : date;
                String to = date.contains("-") ? date.substring(date.indexOf('-') + 1) : date;
                if (!from.isEmpty()) {
                    parameters.put("takenFrom", List.of(iso(from)));
                }
                if (!to.isEmpty()) {
                    parameters.put("takenTo", List.of(iso(to)));
                }
            }
            return parameters;
        }

        /**
         * The image search's filters that the instance UIDs of this search narrow to ({@code studyInstanceUid},
         * {@code seriesInstanceUid}, {@code sopInstanceUid}), each when it is a single UID (a list is matched
         * afterwards).
         */
        Map<String, String> instanceFilters() {
            Map<String, String> filters = new LinkedHashMap<>();
            String[][] keys = {{STUDY_INSTANCE_UID, "studyInstanceUid"}, {SERIES_INSTANCE_UID, "seriesInstanceUid"},
                    {SOP_INSTANCE_UID, "sopInstanceUid"}};
            for (String[] key : keys) {
                String value = matching.get(key[0]);
                if (value != null && !value.isEmpty() && !value.contains(",") && !value.contains("\\")) {
                    filters.put(key[1], value);
                }
            }
            return filters;
        }

        private static String iso(String date) {
            return date.substring(0, 4) + "-" + date.substring(4, 6) + "-" + date.substring(6);
        }

        /** How many matching objects the answer needs: {@code offset + limit}, all of them without a limit. */
        long end() {
            return limit < 0 ? Long.MAX_VALUE : (long) offset + limit;
        }

        /** The objects that match, from {@code offset}, at most {@code limit} of them. */
        List<Map<String, Object>> apply(List<Map<String, Object>> objects) {
            List<Map<String, Object>> matched = objects.stream().filter(this::matches).toList();
            int from = Math.min(offset, matched.size());
            int to = limit < 0 ? matched.size() : Math.min(matched.size(), from + limit);
            return matched.subList(from, to);
        }

        /**
         * PS3.4 §C.2.2.2: a single value matches equal values, a list of UIDs any of them, a date a range
         * ({@code a-b}, {@code -b}, {@code a-}); a multi-valued attribute matches when one of its values does; an
         * attribute the object lacks matches nothing but an empty key. Free text (a patient's name, descriptions,
         * the accession number) matches whatever its case, with {@code *} for any characters and {@code ?} for one.
         * No fuzzy matching.
         */
        boolean matches(Map<String, Object> object) {
            for (var key : matching.entrySet()) {
                if (key.getValue().isEmpty()) {
                    continue;
                }
                List<String> values = values(object.get(key.getKey()));
                if (values.stream().noneMatch(v -> matches(key.getKey(), key.getValue(), v))) {
                    return false;
                }
            }
            return true;
        }

        private static boolean matches(String tag, String wanted, String value) {
            if (TEXTS.contains(tag)) {
                return wildcard(wanted).matcher(value).matches();
            }
            if (DATES.contains(tag) && wanted.contains("-")) {
                String from = wanted.substring(0, wanted.indexOf('-'));
                String to = wanted.substring(wanted.indexOf('-') + 1);
                return (from.isEmpty() || value.compareTo(from) >= 0) && (to.isEmpty() || value.compareTo(to) <= 0);
            }
            for (String one : wanted.split("[,\\\\]")) {
                if (one.equals(value)) {
                    return true;
                }
            }
            return false;
        }

        /** A text key as a pattern: {@code *} any characters, {@code ?} one, the rest literally, in any case. */
        static Pattern wildcard(String wanted) {
            StringBuilder regex = new StringBuilder();
            StringBuilder literal = new StringBuilder();
            for (char c : wanted.toCharArray()) {
                if (c == '*' || c == '?') {
                    regex.append(Pattern.quote(literal.toString())).append(c == '*' ? ".*" : ".");
                    literal.setLength(0);
                } else {
                    literal.append(c);
                }
            }
            regex.append(Pattern.quote(literal.toString()));
            return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.DOTALL);
        }

        /** The values of an element; a person's name by its alphabetic form. */
        private static List<String> values(Object element) {
            if (!(element instanceof Map<?, ?> map) || !(map.get("Value") instanceof List<?> list)) {
                return List.of();
            }
            return list.stream().map(v -> v instanceof Map<?, ?> name ? String.valueOf(name.get("Alphabetic"))
                    : String.valueOf(v)).toList();
        }
    }

    private static final Set<String> IGNORED = Set.of("includefield", "fuzzymatching");
    private static final Pattern DATE_KEY = Pattern.compile("(\\d{8})?(-(\\d{8})?)?");

    private DicomJson() {
    }

    /**
     * The search's keys for this level: its matching keys by keyword or tag, {@code limit} and {@code offset};
     * {@code includefield} and {@code fuzzymatching} are taken and change nothing (every attribute known is
     * answered; no fuzzy matching). Anything else is {@code 400 INVALID_PARAMETER} naming it.
     */
    static Query query(MultiValueMap<String, String> parameters, Level level) {
        Map<String, String> matching = new LinkedHashMap<>();
        int offset = 0;
        int limit = -1;
        for (var parameter : parameters.entrySet()) {
            String name = parameter.getKey();
            String value = parameter.getValue().isEmpty() ? "" : parameter.getValue().get(0);
            String tag = level.keys.containsKey(name) ? level.keys.get(name)
                    : level.keys.containsValue(name.toUpperCase(java.util.Locale.ROOT))
                    ? name.toUpperCase(java.util.Locale.ROOT) : null;
            if (tag != null) {
                if (DATES.contains(tag) && !DATE_KEY.matcher(value).matches()) {
                    throw invalid("'" + name + "' must be a date YYYYMMDD or a range of them (a-b, -b, a-).");
                }
                matching.put(tag, value);
            } else if (name.equals("limit")) {
                limit = number(name, value);
            } else if (name.equals("offset")) {
                offset = number(name, value);
            } else if (!IGNORED.contains(name)) {
                throw invalid("'" + name + "' cannot be matched here; this level matches " + String.join(", ",
                        level.keys.keySet().stream().sorted().toList()) + " (or their tags), with limit and offset.");
            }
        }
        return new Query(matching, offset, limit);
    }

    /** A study of the patient's studies grouping, with its retrieve URL under {@code base}. */
    static Map<String, Object> study(JsonNode study, String base) {
        Map<String, Object> json = new LinkedHashMap<>();
        String uid = study.path("studyInstanceUid").asString();
        text(json, STUDY_DATE, "DA", study.path("studyDate"));
        text(json, ACCESSION_NUMBER, "SH", study.path("accessionNumber"));
        List<String> modalities = new ArrayList<>();
        study.path("modalities").forEach(m -> modalities.add(m.asString()));
        if (!modalities.isEmpty()) {
            json.put(MODALITIES_IN_STUDY, element("CS", modalities));
        }
        text(json, STUDY_DESCRIPTION, "LO", study.path("studyDescription"));
        json.put(RETRIEVE_URL, element("UR", List.of(base + "/studies/" + uid)));
        if (study.path("patientName").isString() && !study.path("patientName").asString().isBlank()) {
            json.put(PATIENT_NAME, element("PN", List.of(Map.of("Alphabetic", study.path("patientName").asString()))));
        }
        text(json, PATIENT_ID, "LO", study.path("patientIdentifier"));
        if (study.path("patientBirthDate").isString()) {
            json.put(PATIENT_BIRTH_DATE, element("DA", List.of(study.path("patientBirthDate").asString()
                    .replace("-", ""))));
        }
        json.put(STUDY_INSTANCE_UID, element("UI", List.of(uid)));
        json.put(STUDY_SERIES, integerString(study.path("seriesCount").asLong()));
        json.put(STUDY_INSTANCES, integerString(instanceCount(study)));
        return json;
    }

    /** A series of that grouping's study; a series without a UID is not one a client can ask for, so none. */
    static Map<String, Object> series(JsonNode study, JsonNode series, String base) {
        String studyUid = study.path("studyInstanceUid").asString();
        String uid = series.path("seriesInstanceUid").asString();
        Map<String, Object> json = new LinkedHashMap<>();
        text(json, MODALITY, "CS", series.path("modality"));
        text(json, SERIES_DESCRIPTION, "LO", series.path("seriesDescription"));
        json.put(RETRIEVE_URL, element("UR", List.of(base + "/studies/" + studyUid + "/series/" + uid)));
        json.put(STUDY_INSTANCE_UID, element("UI", List.of(studyUid)));
        json.put(SERIES_INSTANCE_UID, element("UI", List.of(uid)));
        if (series.path("seriesNumber").isNumber()) {
            json.put(SERIES_NUMBER, integerString(series.path("seriesNumber").asLong()));
        }
        json.put(SERIES_INSTANCES, integerString(instanceCount(series)));
        return json;
    }

    /** An image with DICOM attributes, as an instance; its retrieve URL when its study, series and UID are known. */
    static Map<String, Object> instance(JsonNode image, String base) {
        JsonNode dicom = image.path("attributes").path("dicom");
        Map<String, Object> json = new LinkedHashMap<>();
        text(json, SOP_CLASS_UID, "UI", dicom.path("SOPClassUID"));
        text(json, SOP_INSTANCE_UID, "UI", dicom.path("SOPInstanceUID"));
        text(json, MODALITY, "CS", dicom.path("Modality"));
        String url = retrieveUrl(image, base);
        if (url != null) {
            json.put(RETRIEVE_URL, element("UR", List.of(url)));
        }
        text(json, TRANSFER_SYNTAX, "UI", dicom.path("TransferSyntaxUID"));
        text(json, STUDY_INSTANCE_UID, "UI", dicom.path("StudyInstanceUID"));
        text(json, SERIES_INSTANCE_UID, "UI", dicom.path("SeriesInstanceUID"));
        if (dicom.path("SeriesNumber").isNumber()) {
            json.put(SERIES_NUMBER, integerString(dicom.path("SeriesNumber").asLong()));
        }
        if (dicom.path("InstanceNumber").isNumber()) {
            json.put(INSTANCE_NUMBER, integerString(dicom.path("InstanceNumber").asLong()));
        }
        number(json, ROWS, "US", dicom.path("Rows"));
        number(json, COLUMNS, "US", dicom.path("Columns"));
        return json;
    }

    /** Its distinct instances (an instance stored twice counts once), or its images from before they were counted. */
    private static long instanceCount(JsonNode studyOrSeries) {
        return studyOrSeries.path("instanceCount").asLong(studyOrSeries.path("imageCount").asLong());
    }

    /** An instance's retrieve URL under a DICOMweb root, when its study, series and UID are known; else null. */
    static String retrieveUrl(JsonNode image, String base) {
        JsonNode dicom = image.path("attributes").path("dicom");
        if (!dicom.path("StudyInstanceUID").isString() || !dicom.path("SeriesInstanceUID").isString()
                || !dicom.path("SOPInstanceUID").isString()) {
            return null;
        }
        return base + "/studies/" + dicom.path("StudyInstanceUID").asString() + "/series/"
                + dicom.path("SeriesInstanceUID").asString() + "/instances/" + dicom.path("SOPInstanceUID").asString();
    }

    private static void text(Map<String, Object> json, String tag, String vr, JsonNode value) {
        if (value.isString() && !value.asString().isBlank()) {
            json.put(tag, element(vr, List.of(value.asString())));
        }
    }

    private static void number(Map<String, Object> json, String tag, String vr, JsonNode value) {
        if (value.isNumber()) {
            json.put(tag, element(vr, List.of(value.asLong())));
        }
    }

    /**
     * An integer string (IS) as a JSON string, as CP 1861 allows and dcm4chee writes it by default: the DICOMweb
     * client of Orthanc 1.10 reads no number there (US stays a number, as the model has it).
     */
    private static Map<String, Object> integerString(long value) {
        return element("IS", List.of(Long.toString(value)));
    }

    /** An attribute as the DICOM JSON model writes it: its VR, then its values. */
    public static Map<String, Object> element(String vr, List<?> values) {
        Map<String, Object> element = new LinkedHashMap<>();
        element.put("vr", vr);
        element.put("Value", values);
        return element;
    }

    private static int number(String name, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw invalid("'" + name + "' must be a whole number of 0 or more.");
    }

    private static ApiProblem invalid(String detail) {
        return ApiProblem.badRequest("INVALID_PARAMETER", detail);
    }
}
