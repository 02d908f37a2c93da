package org.patientimages.metadata.image;

import org.patientimages.metadata.access.PatientAccess;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * DICOM studies and their series, from the identifiers the workers read from each file: what a viewer shows before
 * it opens a series, of one patient or found across patients by the PatientID the files carry (a DICOMweb search).
 * Only available images count. Newest study first (by its StudyDate, then by the
 * latest upload of it), its series by number of images, most first.
 */
@Repository
class Studies {

    /**
     * One series of a study: its modality, how many images it has here, and how many distinct instances (an
     * instance stored twice is two images, one instance).
     */
    record Series(String seriesInstanceUid, String modality, Long seriesNumber, String seriesDescription,
                  long imageCount, long instanceCount) {
    }

    /**
     * {@code patientIdentifier}: the PatientID the files carry (the hospital's), not the service's patient id;
     * {@code patientName} and {@code patientBirthDate} ({@code YYYY-MM-DD}): those of the service's patient the study
     * is filed under (the files' are never read); the description and accession number as the files carry them.
     */
    record Study(UUID patientId, String patientName, String patientBirthDate, String patientIdentifier,
                 String studyInstanceUid, String studyDate, String studyDescription, String accessionNumber,
                 List<String> modalities, long seriesCount, long imageCount, long instanceCount,
                 String firstUploadedAt, String lastUploadedAt, List<Series> series) {
    }

    /**
     * Which studies: of one patient, or across patients (only those granted to {@code grantee} when one is named)
     * by the PatientID the files carry, by study UIDs, or by the dates they were taken (both days included).
     */
    record Filter(UUID patientId, String grantee, String patientIdentifier, List<String> studyInstanceUids,
                  LocalDate takenFrom, LocalDate takenTo) {

        private static final Set<String> PARAMETERS = Set.of("patientIdentifier", "studyInstanceUid", "takenFrom",
                "takenTo", "limit", "cursor");

        static Filter ofPatient(UUID patientId) {
            return new Filter(patientId, null, null, List.of(), null, null);
        }

        /**
         * A search across patients from its parameters ({@code 400} for unknown ones or bad dates); one that does not
         * {@linkplain #narrows() narrow} is the {@linkplain #latest latest studies}.
         */
        static Filter parse(Map<String, List<String>> params, String grantee) {
            for (String name : params.keySet()) {
                if (!PARAMETERS.contains(name)) {
                    throw ApiException.badRequest("INVALID_PARAMETER", "Unknown parameter '" + name + "'; known: "
                            + String.join(", ", PARAMETERS.stream().sorted().toList()) + ".");
                }
            }
            List<String> identifiers = params.getOrDefault("patientIdentifier", List.of());
            return new Filter(null, grantee, identifiers.isEmpty() ? null : identifiers.get(0),
                    List.copyOf(params.getOrDefault("studyInstanceUid", List.of())),
                    ImageSearch.date(params, "takenFrom"), ImageSearch.date(params, "takenTo"));
        }

        /** The images' {@code where}, each parameter added to {@code params}. */
        String where(List<Object> params) {
            StringBuilder where = new StringBuilder(STUDY_IMAGES);
            if (patientId != null) {
                where.append(" and patient_id = ?");
                params.add(patientId);
            }
            if (grantee != null) {
                where.append(PatientAccess.GRANTED.formatted("images.patient_id"));
                params.add(grantee);
            }
            // each by the expression its index has (V5, V21, V24)
            if (patientIdentifier != null) {
                where.append(" and attributes -> 'dicom' ->> 'PatientID' = ?");
                params.add(patientIdentifier);
            }
            if (!studyInstanceUids.isEmpty()) {
                where.append(" and attributes -> 'dicom' ->> 'StudyInstanceUID' = any(?)");
                params.add(studyInstanceUids.toArray(String[]::new));
            }
            ImageSearch.taken(where, params, "attributes", takenFrom, takenTo);
            return where.toString();
        }

        /** Whether it narrows the studies to fewer than all those the caller may see. */
        boolean narrows() {
            return patientId != null || patientIdentifier != null || !studyInstanceUids.isEmpty() || takenFrom != null
                    || takenTo != null;
        }
    }

    private record Row(UUID patient, String patientIdentifier, String study, String series, String modality,
                       String studyDate, String studyDescription, String accessionNumber, Long seriesNumber,
                       String seriesDescription, long images, long instances, Timestamp first, Timestamp last) {
    }

    private final JdbcClient jdbc;

    Studies(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The statement that groups the images the filter's {@code where} keeps by patient, study and series. */
    static String select(String where) {
        return """
                select patient_id, max(attributes -> 'dicom' ->> 'PatientID') as patient_identifier,
                       attributes -> 'dicom' ->> 'StudyInstanceUID' as study,
                       coalesce(attributes -> 'dicom' ->> 'SeriesInstanceUID', '') as series,
                       attributes -> 'dicom' ->> 'Modality' as modality,
                       attributes -> 'dicom' ->> 'StudyDate' as study_date,
                       max(attributes -> 'dicom' ->> 'StudyDescription') as study_description,
                       max(attributes -> 'dicom' ->> 'AccessionNumber') as accession_number,
                       min(case when jsonb_typeof(attributes -> 'dicom' -> 'SeriesNumber') = 'number'
                                then (attributes -> 'dicom' ->> 'SeriesNumber')::numeric end) as series_number,
                       max(attributes -> 'dicom' ->> 'SeriesDescription') as series_description,
                       count(*) as images,
                       count(distinct coalesce(attributes -> 'dicom' ->> 'SOPInstanceUID', id::text)) as instances,
                       min(uploaded_at) as first, max(uploaded_at) as last
                from images""" + where + " group by patient_id, 3, 4, 5, 6";
    }

    /** One page of the studies; the cursor is the sort key of the last study of the page before. */
    Page<Study> matching(Filter filter, int limit, String cursor) {
        List<Study> studies = grouped(filter).values().stream().sorted(ORDER).toList();
        int from = 0;
        String[] after = Paging.decode(cursor, 4);
        if (after != null) {
            // the first study after the last one shown, by the order: a study gone meanwhile does not stop the pages
            Study last;
            try {
                last = new Study(UUID.fromString(after[3]), null, null, null, after[2],
                        after[0].isEmpty() ? null : after[0], null, null, List.of(), 0, 0, 0, null, after[1],
                        List.of());
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("INVALID_CURSOR", "cursor is not one this service issued.");
            }
            while (from < studies.size() && ORDER.compare(studies.get(from), last) <= 0) {
                from++;
            }
        }
        List<Study> page = studies.subList(from, Math.min(studies.size(), from + limit));
        if (from + limit >= studies.size()) {
            return new Page<>(page, null);
        }
        Study end = page.get(page.size() - 1);
        return new Page<>(page, Paging.encode(end.studyDate() == null ? "" : end.studyDate(), end.lastUploadedAt(),
                end.studyInstanceUid(), end.patientId().toString()));
    }

    /** The studies the filter keeps, by patient and study UID ({@link #key}). */
    private Map<String, Study> grouped(Filter filter) {
        List<Object> params = new ArrayList<>();
        String where = filter.where(params);
        List<Row> rows = jdbc.sql(select(where))
                .params(params)
                .query((rs, n) -> new Row(rs.getObject("patient_id", UUID.class), rs.getString("patient_identifier"),
                        rs.getString("study"), rs.getString("series"), rs.getString("modality"),
                        rs.getString("study_date"), rs.getString("study_description"),
                        rs.getString("accession_number"),
                        rs.getObject("series_number") == null ? null : rs.getBigDecimal("series_number").longValue(),
                        rs.getString("series_description"), rs.getLong("images"), rs.getLong("instances"),
                        rs.getTimestamp("first"), rs.getTimestamp("last")))
                .list();
        Map<String, List<Row>> byStudy = new LinkedHashMap<>();
        rows.forEach(r -> byStudy.computeIfAbsent(key(r.patient(), r.study()), k -> new ArrayList<>()).add(r));
        Map<UUID, Person> people = new HashMap<>();
        if (!rows.isEmpty()) {
            jdbc.sql("select id, name, birth_date from patients where id = any(?)")
                    .param(rows.stream().map(Row::patient).distinct().toArray(UUID[]::new))
                    .query(rs -> {
                        LocalDate born = rs.getObject("birth_date", LocalDate.class);
                        people.put(rs.getObject("id", UUID.class), new Person(rs.getString("name"),
                                born == null ? null : born.toString()));
                    });
        }
        Map<String, Study> studies = new LinkedHashMap<>();
        byStudy.forEach((key, studyRows) -> studies.put(key, study(studyRows,
                people.getOrDefault(studyRows.get(0).patient(), new Person(null, null)))));
        return studies;
    }

    /** The service's patient a study is filed under, as a study shows it. */
    private record Person(String name, String birthDate) {
    }

    private static String key(UUID patient, String study) {
        return patient + "/" + study;
    }

    /** An available image of a study, where it lies in the images newest first. */
    private record Place(UUID patient, String study, Timestamp uploadedAt, UUID imageId) {
    }

    /** The available images of studies, the {@code where} every statement here starts with. */
    private static final String STUDY_IMAGES = " where status = 'AVAILABLE'"
            + " and attributes -> 'dicom' ->> 'StudyInstanceUID' is not null";
    private static final int FIRST_SCAN = 256;
    private static final int LARGEST_SCAN = 8192;

    /**
     * The studies across the patients the caller may see (those granted to {@code grantee} when one is named), the
     * latest received first: by the upload time of their newest image, a page at a time, the cursor that image's
     * place. What a viewer's study list shows when nothing narrows it. Found by walking the available images newest
     * first by their upload time's index, in growing steps, until the page and one study more are found: the cost is
     * in the images of the studies shown (and of those passed over), not in the size of the archive. A study met
     * again below the cursor was on an earlier page when it has an image at or above the cursor.
     */
    Page<Study> latest(String grantee, int limit, String cursor) {
        Paging.Key after = Paging.after(cursor);
        Map<String, Place> found = new LinkedHashMap<>();
        Set<String> met = new HashSet<>();
        Timestamp from = after == null ? null : Timestamp.from(after.at());
        UUID fromId = after == null ? null : after.id();
        int step = FIRST_SCAN;
        while (found.size() <= limit) {
            List<Object> params = new ArrayList<>();
            List<Place> places = jdbc.sql(scan(grantee, from, fromId, step, params)).params(params)
                    .query((rs, n) -> new Place(rs.getObject("patient_id", UUID.class), rs.getString("study"),
                            rs.getTimestamp("uploaded_at"), rs.getObject("id", UUID.class)))
                    .list();
            List<Place> firstMet = places.stream().filter(p -> met.add(key(p.patient(), p.study()))).toList();
            Set<String> shown = after == null ? Set.of() : shownBefore(firstMet, after);
            for (Place place : firstMet) {
                if (!shown.contains(key(place.patient(), place.study())) && found.size() <= limit) {
                    found.put(key(place.patient(), place.study()), place);
                }
            }
            if (places.size() < step) {
                break;
            }
            Place last = places.get(places.size() - 1);
            from = last.uploadedAt();
            fromId = last.imageId();
            step = Math.min(step * 2, LARGEST_SCAN);
        }
        if (found.isEmpty()) {
            return new Page<>(List.of(), null);
        }
        Map<String, Study> studies = grouped(new Filter(null, grantee, null,
                found.values().stream().map(Place::study).distinct().toList(), null, null));
        // a study whose last image went meanwhile is left out; the page's cursor is still the last study's place
        List<Place> places = List.copyOf(found.values());
        List<Place> shownHere = places.subList(0, Math.min(limit, places.size()));
        List<Study> page = shownHere.stream().map(p -> studies.get(key(p.patient(), p.study())))
                .filter(Objects::nonNull).toList();
        if (places.size() <= limit) {
            return new Page<>(page, null);
        }
        Place end = shownHere.get(shownHere.size() - 1);
        return new Page<>(page, Paging.cursor(end.uploadedAt().toInstant(), end.imageId()));
    }

    /**
     * The statement that walks the available images of studies newest first, {@code step} of them, from below the
     * place {@code from}/{@code fromId} when one is given; each parameter added to {@code params}. For a grantee,
     * the newest of each granted patient's images (found by an index on the patient) merged: a clinician with a few
     * patients does not read the whole archive's images to find theirs.
     */
    static String scan(String grantee, Timestamp from, UUID fromId, int step, List<Object> params) {
        StringBuilder sql = new StringBuilder("select patient_id, attributes -> 'dicom' ->> 'StudyInstanceUID'"
                + " as study, uploaded_at, id from images")
                .append(new Filter(null, null, null, List.of(), null, null).where(params));
        if (grantee != null) {
            sql.append(" and patient_id = g.patient_id");
        }
        if (from != null) {
            sql.append(" and (uploaded_at, id) < (?, ?)");
            params.add(from);
            params.add(fromId);
        }
        sql.append(" order by uploaded_at desc, id desc limit ?");
        params.add(step);
        if (grantee == null) {
            return sql.toString();
        }
        params.add(grantee);
        params.add(step);
        return "select s.* from patient_grants g cross join lateral (" + sql + ") s where g.username = ?"
                + " order by s.uploaded_at desc, s.id desc limit ?";
    }

    /** Which of some studies (by UID: an array) have an available image at or above a place (a time and an id). */
    static final String SHOWN_BEFORE = "select distinct patient_id, attributes -> 'dicom' ->> 'StudyInstanceUID' as"
            + " study from images" + STUDY_IMAGES + " and attributes -> 'dicom' ->> 'StudyInstanceUID' = any(?)"
            + " and (uploaded_at, id) >= (?, ?)";

    /** Of these studies, those with an available image at or above the cursor's place: shown on an earlier page. */
    private Set<String> shownBefore(List<Place> places, Paging.Key after) {
        if (places.isEmpty()) {
            return Set.of();
        }
        Set<String> shown = new HashSet<>();
        jdbc.sql(SHOWN_BEFORE)
                .params(places.stream().map(Place::study).distinct().toArray(String[]::new),
                        Timestamp.from(after.at()), after.id())
                .query(rs -> {
                    shown.add(key(rs.getObject("patient_id", UUID.class), rs.getString("study")));
                });
        return shown;
    }

    /** Newest StudyDate first (studies without one last), then the latest upload, then the UID. */
    private static final Comparator<Study> ORDER = Comparator
            .comparing((Study s) -> s.studyDate() == null ? "" : s.studyDate(), Comparator.reverseOrder())
            .thenComparing(Study::lastUploadedAt, Comparator.reverseOrder())
            .thenComparing(Study::studyInstanceUid)
            .thenComparing(Study::patientId);

    private static Study study(List<Row> rows, Person patient) {
        // a study's rows differ by series (and, in a malformed study, by date or modality): the study takes the latest date
        String date = largest(rows, Row::studyDate);
        Map<String, long[]> seriesCounts = new LinkedHashMap<>(); // images, instances
        Map<String, String> seriesModality = new LinkedHashMap<>();
        Map<String, Long> seriesNumber = new HashMap<>();
        Map<String, String> seriesDescription = new HashMap<>();
        TreeSet<String> modalities = new TreeSet<>();
        long images = 0;
        long instances = 0;
        Timestamp first = null;
        Timestamp last = null;
        for (Row r : rows) {
            long[] counts = seriesCounts.computeIfAbsent(r.series(), k -> new long[2]);
            counts[0] += r.images();
            counts[1] += r.instances();
            if (r.seriesNumber() != null) {
                seriesNumber.merge(r.series(), r.seriesNumber(), Math::min);
            }
            if (r.seriesDescription() != null) {
                seriesDescription.putIfAbsent(r.series(), r.seriesDescription());
            }
            if (r.modality() != null) {
                seriesModality.putIfAbsent(r.series(), r.modality());
                modalities.add(r.modality());
            }
            images += r.images();
            instances += r.instances();
            first = first == null || r.first().before(first) ? r.first() : first;
            last = last == null || r.last().after(last) ? r.last() : last;
        }
        List<Series> series = seriesCounts.entrySet().stream()
                .map(e -> new Series(e.getKey().isEmpty() ? null : e.getKey(), seriesModality.get(e.getKey()),
                        seriesNumber.get(e.getKey()), seriesDescription.get(e.getKey()), e.getValue()[0],
                        e.getValue()[1]))
                .sorted(Comparator.comparingLong(Series::imageCount).reversed()
                        .thenComparing(s -> s.seriesInstanceUid() == null ? "" : s.seriesInstanceUid()))
                .toList();
        return new Study(rows.get(0).patient(), patient.name(), patient.birthDate(),
                largest(rows, Row::patientIdentifier), rows.get(0).study(), date, largest(rows, Row::studyDescription),
                largest(rows, Row::accessionNumber), List.copyOf(modalities), series.size(), images, instances,
                Timestamps.format(first), Timestamps.format(last), series);
    }

    /** Of a study's rows, the largest value (one in a well-formed study) that is not blank. */
    private static String largest(List<Row> rows, java.util.function.Function<Row, String> value) {
        return rows.stream().map(value).filter(v -> v != null && !v.isBlank()).max(Comparator.naturalOrder())
                .orElse(null);
    }
}
