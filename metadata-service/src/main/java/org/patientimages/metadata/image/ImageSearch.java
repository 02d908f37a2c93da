package org.patientimages.metadata.image;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Like;
import org.patientimages.metadata.web.Paging;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A search over images, from the query parameters of {@code GET /v1/images} (and of a patient's image
 * list), to one SQL statement with keyset pagination. Pure: no Spring or JDBC types; unknown parameters and
 * bad values are refused with a detail that names them.
 */
public record ImageSearch(UUID patientId, List<String> tags, boolean matchAll, String contentType, String modality,
                          String studyInstanceUid, String seriesInstanceUid, String sopInstanceUid, Instant from,
                          Instant to, LocalDate takenFrom, LocalDate takenTo, String text, String status,
                          String integrity, boolean byName, boolean ascending, int limit, String cursor,
                          String grantee) {

    static final Set<String> PARAMETERS = Set.of("patientId", "tag", "match", "contentType", "modality",
            "studyInstanceUid", "seriesInstanceUid", "sopInstanceUid", "from", "to", "takenFrom", "takenTo", "q",
            "status", "integrity", "sort", "order", "limit", "cursor");
    /** {@code DELETED}: the deleted images that can still be restored (admins only, the controller's check). */
    private static final Set<String> STATUSES = Set.of("PENDING", "AVAILABLE", "FAILED", "DELETED");
    /** The outcomes of an image's last integrity check, and {@code UNCHECKED} for none yet. */
    static final Set<String> INTEGRITY = Set.of("UNCHECKED", "INTACT", "CORRUPT", "MISSING");

    /** The parameters as they came; {@code patientId} from the path wins over the query's. */
    public static ImageSearch parse(Map<String, List<String>> params, UUID pathPatientId) {
        for (String name : params.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw bad("INVALID_PARAMETER", "Unknown parameter '" + name + "'; known: "
                        + String.join(", ", PARAMETERS.stream().sorted().toList()) + ".");
            }
        }
        UUID patient = pathPatientId;
        if (patient == null && single(params, "patientId") != null) {
            try {
                patient = UUID.fromString(single(params, "patientId"));
            } catch (IllegalArgumentException e) {
                throw bad("INVALID_PARAMETER", "patientId must be a patient id.");
            }
        }
        Set<String> tags = new LinkedHashSet<>();
        for (String tag : params.getOrDefault("tag", List.of())) {
            tags.add(tag.strip().toLowerCase(Locale.ROOT));
        }
        String match = oneOf(params, "match", Set.of("all", "any"), "all");
        String status = single(params, "status");
        if (status != null && !STATUSES.contains(status)) {
            throw bad("INVALID_PARAMETER", "status must be one of " + String.join(", ", STATUSES.stream().sorted().toList()) + ".");
        }
        String integrity = oneOf(params, "integrity", INTEGRITY, null);
        String sort = oneOf(params, "sort", Set.of("uploadedAt", "name"), "uploadedAt");
        String order = oneOf(params, "order", Set.of("asc", "desc"), "desc");
        Integer limit;
        try {
            limit = single(params, "limit") == null ? null : Integer.valueOf(single(params, "limit"));
        } catch (NumberFormatException e) {
            throw bad("INVALID_LIMIT", "limit must be a whole number.");
        }
        Instant from = instant(params, "from");
        Instant to = instant(params, "to");
        if (from != null && to != null && from.isAfter(to)) {
            throw bad("INVALID_PARAMETER", "from must not be after to.");
        }
        LocalDate takenFrom = date(params, "takenFrom");
        LocalDate takenTo = date(params, "takenTo");
        if (takenFrom != null && takenTo != null && takenFrom.isAfter(takenTo)) {
            throw bad("INVALID_PARAMETER", "takenFrom must not be after takenTo.");
        }
        String q = single(params, "q");
        String modality = single(params, "modality");
        return new ImageSearch(patient, List.copyOf(tags), match.equals("all"), single(params, "contentType"),
                modality == null ? null : modality.strip().toUpperCase(Locale.ROOT), single(params, "studyInstanceUid"),
                single(params, "seriesInstanceUid"), single(params, "sopInstanceUid"), from, to, takenFrom, takenTo,
                q == null || q.isBlank() ? null : q.strip(), status, integrity, sort.equals("name"), order.equals("asc"),
                Paging.limit(limit), single(params, "cursor"), null);
    }

    /** The same search over only the patients granted to {@code username} (a clinician's view). */
    public ImageSearch grantedTo(String username) {
        return new ImageSearch(patientId, tags, matchAll, contentType, modality, studyInstanceUid, seriesInstanceUid,
                sopInstanceUid, from, to, takenFrom, takenTo, text, status, integrity, byName, ascending, limit, cursor,
                username);
    }

    /** Whether this search lists deleted images that can still be restored, instead of live ones. */
    public boolean deleted() {
        return "DELETED".equals(status);
    }

    /** SQL and its parameters: the images of one page plus one, in order. */
    public record Sql(String where, String orderBy, List<Object> params) {
    }

    public Sql toSql() {
        StringBuilder where = new StringBuilder(deleted()
                ? " where i.status = 'DELETED' and i.restorable_until > now()" : " where i.status <> 'DELETED'");
        List<Object> params = new ArrayList<>();
        if (patientId != null) {
            where.append(" and i.patient_id = ?");
            params.add(patientId);
        }
        if (grantee != null) {
            where.append(org.patientimages.metadata.access.PatientAccess.GRANTED.formatted("i.patient_id"));
            params.add(grantee);
        }
        if (!tags.isEmpty()) {
            // measured on 100,000 images (./dev bench-search): one tag, or any of several, is fastest as a
            // semi-join; all of several as one grouped scan of the tag index
            if (matchAll && tags.size() > 1) {
                where.append(" and i.id in (select it.image_id from image_tags it join tags t on t.id = it.tag_id"
                        + " where t.name = any(?) group by it.image_id having count(distinct t.id) = ?)");
                params.add(tags.toArray(String[]::new));
                params.add(tags.size());
            } else {
                where.append(" and exists (select 1 from image_tags it join tags t on t.id = it.tag_id"
                        + " where it.image_id = i.id and t.name = any(?))");
                params.add(tags.toArray(String[]::new));
            }
        }
        if (contentType != null) {
            where.append(" and i.content_type = ?");
            params.add(contentType);
        }
        // DICOM attributes as the workers read them, each by the expression its index has (V5, V22)
        String[][] dicom = {{"Modality", modality}, {"StudyInstanceUID", studyInstanceUid},
                {"SeriesInstanceUID", seriesInstanceUid}, {"SOPInstanceUID", sopInstanceUid}};
        for (String[] attribute : dicom) {
            if (attribute[1] != null) {
                where.append(" and i.attributes -> 'dicom' ->> '").append(attribute[0]).append("' = ?");
                params.add(attribute[1]);
            }
        }
        if (from != null) {
            where.append(" and i.uploaded_at >= ?");
            params.add(java.sql.Timestamp.from(from));
        }
        if (to != null) {
            where.append(" and i.uploaded_at < ?");
            params.add(java.sql.Timestamp.from(to));
        }
        taken(where, params, "i.attributes", takenFrom, takenTo);
        if (text != null) {
            String like = Like.containing(text);
            where.append(" and (lower(coalesce(i.name, '')) like ? or lower(coalesce(i.description, '')) like ?)");
            params.add(like);
            params.add(like);
        }
        if (status != null && !deleted()) {
            where.append(" and i.status = ?");
            params.add(status);
        }
        if (integrity != null) {
            // one of a closed set, written as a literal: the planner then sees that a failed outcome's search is
            // within the small partial index of failures
            where.append(integrity.equals("UNCHECKED") ? " and i.integrity_status is null"
                    : " and i.integrity_status = '" + integrity + "'");
        }
        String key = byName ? "coalesce(i.name, '')" : "i.uploaded_at";
        String direction = ascending ? "asc" : "desc";
        if (cursor != null) {
            String[] after = Paging.decode(cursor, 3);
            if (!after[0].equals(cursorKind())) {
                throw bad("INVALID_CURSOR", "cursor belongs to another sort order.");
            }
            where.append(" and (").append(key).append(", i.id) ").append(ascending ? ">" : "<").append(" (?, ?)");
            try {
                params.add(byName ? after[1] : java.sql.Timestamp.from(Paging.micros(after[1])));
                params.add(UUID.fromString(after[2]));
            } catch (IllegalArgumentException e) {
                throw bad("INVALID_CURSOR", "cursor is not one this service issued.");
            }
        }
        params.add(limit + 1);
        return new Sql(where.toString(), " order by " + key + " " + direction + ", i.id " + direction + " limit ?", params);
    }

    /** The cursor that continues after this image. */
    public String cursorAfter(String name, Instant uploadedAt, UUID id) {
        if (byName) {
            return Paging.encode(cursorKind(), name == null ? "" : name, id.toString());
        }
        return Paging.encode(cursorKind(), Paging.micros(uploadedAt), id.toString());
    }

    private String cursorKind() {
        return (byName ? "name" : "uploadedAt") + "-" + (ascending ? "asc" : "desc");
    }

    private static Instant instant(Map<String, List<String>> params, String name) {
        return parsed(params, name, Instant::parse, "an ISO-8601 time such as 2026-11-27T10:15:30.123Z");
    }

    /** A calendar date, YYYY-MM-DD. */
    static LocalDate date(Map<String, List<String>> params, String name) {
        return parsed(params, name, LocalDate::parse, "a date such as 2026-11-27");
    }

    /**
     * Images taken from {@code from} to {@code to} (both days included, either may be null) by their
     * {@code attributes} column, with the expression of migration V21 as its index has it.
     */
    static void taken(StringBuilder where, List<Object> params, String attributes, LocalDate from, LocalDate to) {
        if (from != null) {
            where.append(" and image_taken_on(").append(attributes).append(") >= ?");
            params.add(java.sql.Date.valueOf(from));
        }
        if (to != null) {
            where.append(" and image_taken_on(").append(attributes).append(") <= ?");
            params.add(java.sql.Date.valueOf(to));
        }
    }

    /** The parameter's value as {@code parse} reads it, null without one; refused, naming {@code form}, if not one. */
    private static <T> T parsed(Map<String, List<String>> params, String name,
                                java.util.function.Function<String, T> parse, String form) {
        String value = single(params, name);
        if (value == null) {
            return null;
        }
        try {
            return parse.apply(value);
        } catch (DateTimeParseException e) {
            throw bad("INVALID_PARAMETER", name + " must be " + form + ".");
        }
    }

    private static String oneOf(Map<String, List<String>> params, String name, Set<String> allowed, String otherwise) {
        String value = single(params, name);
        if (value == null) {
            return otherwise;
        }
        if (!allowed.contains(value)) {
            throw bad("INVALID_PARAMETER", name + " must be one of " + String.join(", ", allowed.stream().sorted().toList()) + ".");
        }
        return value;
    }

    private static String single(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw bad("INVALID_PARAMETER", name + " may be given once.");
        }
        return values.get(0);
    }

    private static ApiException bad(String code, String detail) {
        return ApiException.badRequest(code, detail);
    }
}
