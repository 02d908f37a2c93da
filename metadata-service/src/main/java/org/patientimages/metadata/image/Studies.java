package org.patientimages.metadata.image;

import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * A patient's DICOM studies and their series, from the identifiers the workers read from each file: what a viewer
 * shows before it opens a series. Only available images count. Newest study first (by its StudyDate, then by the
 * latest upload of it), its series by number of images, most first.
 */
@Repository
class Studies {

    /** One series of a study: its modality and how many images it has here. */
    record Series(String seriesInstanceUid, String modality, long imageCount) {
    }

    record Study(String studyInstanceUid, String studyDate, List<String> modalities, long seriesCount, long imageCount,
                 String firstUploadedAt, String lastUploadedAt, List<Series> series) {
    }

    private record Row(String study, String series, String modality, String studyDate, long images, Timestamp first,
                       Timestamp last) {
    }

    private final JdbcClient jdbc;

    Studies(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** One page of a patient's studies; the cursor is the sort key of the last study of the page before. */
    Page<Study> ofPatient(UUID patientId, int limit, String cursor) {
        List<Row> rows = jdbc.sql("""
                        select attributes -> 'dicom' ->> 'StudyInstanceUID' as study,
                               coalesce(attributes -> 'dicom' ->> 'SeriesInstanceUID', '') as series,
                               attributes -> 'dicom' ->> 'Modality' as modality,
                               attributes -> 'dicom' ->> 'StudyDate' as study_date,
                               count(*) as images, min(uploaded_at) as first, max(uploaded_at) as last
                        from images
                        where patient_id = ? and status = 'AVAILABLE'
                          and attributes -> 'dicom' ->> 'StudyInstanceUID' is not null
                        group by 1, 2, 3, 4""")
                .param(patientId)
                .query((rs, n) -> new Row(rs.getString("study"), rs.getString("series"), rs.getString("modality"),
                        rs.getString("study_date"), rs.getLong("images"), rs.getTimestamp("first"), rs.getTimestamp("last")))
                .list();
        Map<String, List<Row>> byStudy = new LinkedHashMap<>();
        rows.forEach(r -> byStudy.computeIfAbsent(r.study(), k -> new ArrayList<>()).add(r));
        List<Study> studies = byStudy.values().stream().map(Studies::study).sorted(ORDER).toList();
        int from = 0;
        String[] after = Paging.decode(cursor, 3);
        if (after != null) {
            // the first study after the last one shown, by the order: a study gone meanwhile does not stop the pages
            Study last = new Study(after[2], after[0].isEmpty() ? null : after[0], List.of(), 0, 0, null, after[1],
                    List.of());
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
                end.studyInstanceUid()));
    }

    /** Newest StudyDate first (studies without one last), then the latest upload, then the UID. */
    private static final Comparator<Study> ORDER = Comparator
            .comparing((Study s) -> s.studyDate() == null ? "" : s.studyDate(), Comparator.reverseOrder())
            .thenComparing(Study::lastUploadedAt, Comparator.reverseOrder())
            .thenComparing(Study::studyInstanceUid);

    private static Study study(List<Row> rows) {
        // a study's rows differ by series (and, in a malformed study, by date or modality): the study takes the latest date
        String date = rows.stream().map(Row::studyDate).filter(d -> d != null && !d.isBlank())
                .max(Comparator.naturalOrder()).orElse(null);
        Map<String, long[]> seriesCounts = new LinkedHashMap<>();
        Map<String, String> seriesModality = new LinkedHashMap<>();
        TreeSet<String> modalities = new TreeSet<>();
        long images = 0;
        Timestamp first = null;
        Timestamp last = null;
        for (Row r : rows) {
            seriesCounts.computeIfAbsent(r.series(), k -> new long[1])[0] += r.images();
            if (r.modality() != null) {
                seriesModality.putIfAbsent(r.series(), r.modality());
                modalities.add(r.modality());
            }
            images += r.images();
            first = first == null || r.first().before(first) ? r.first() : first;
            last = last == null || r.last().after(last) ? r.last() : last;
        }
        List<Series> series = seriesCounts.entrySet().stream()
                .map(e -> new Series(e.getKey().isEmpty() ? null : e.getKey(), seriesModality.get(e.getKey()), e.getValue()[0]))
                .sorted(Comparator.comparingLong(Series::imageCount).reversed()
                        .thenComparing(s -> s.seriesInstanceUid() == null ? "" : s.seriesInstanceUid()))
                .toList();
        return new Study(rows.get(0).study(), date, List.copyOf(modalities), series.size(), images,
                Timestamps.format(first), Timestamps.format(last), series);
    }
}
