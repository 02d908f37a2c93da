package org.patientimages.metadata.image;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.RealPostgres;
import org.patientimages.metadata.web.Page;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Finding a person's studies across patients by the PatientID their files carry, among many, against a real
 * PostgreSQL with the service's migrations in a database of its own: the grouping's SQL, as {@link Studies} writes
 * it, is served by the expression index of migration V24, not by a read of every image; and the latest studies
 * are found by walking the images by the index on their upload time, not by grouping every image.
 */
class StudiesPlanIT {

    private static final String DATABASE = "studies_across";

    @Test
    void studies_by_the_patient_id_of_their_files_are_looked_up_in_the_expression_index() throws Exception {
        try (Connection db = RealPostgres.migratedDatabase(DATABASE)) {
            fill(db);
            List<Object> params = new ArrayList<>();
            String where = Studies.Filter.parse(Map.of("patientIdentifier", List.of("MRN-42")), null).where(params);
            assertThat(plan(db, Studies.select(where), params)).contains("images_dicom_patient_idx")
                    .doesNotContain("Seq Scan");
            try (PreparedStatement groups = db.prepareStatement(Studies.select(where))) {
                bind(groups, params);
                int studies = 0;
                try (ResultSet rs = groups.executeQuery()) {
                    while (rs.next()) {
                        studies++;
                        assertThat(rs.getString("patient_identifier")).isEqualTo("MRN-42");
                    }
                }
                assertThat(studies).as("the 10 studies of the 100 images of one patient").isEqualTo(10);
            }
        }
    }

    @Test
    void the_latest_studies_walk_the_images_by_their_upload_times_index_page_after_page() throws Exception {
        try (Connection db = RealPostgres.migratedDatabase(DATABASE + "_latest")) {
            fill(db);
            // the walk from below a cursor, and the check of what was shown before it, each by an index, unsorted
            List<Object> params = new ArrayList<>();
            String scan = Studies.scan(null, Timestamp.from(Instant.now().minus(Duration.ofDays(3))),
                    UUID.randomUUID(), 256, params);
            assertThat(plan(db, scan, params)).contains("images_uploaded_idx").doesNotContain("Seq Scan")
                    .doesNotContain("Sort");
            // a clinician's: each granted patient's images by an index on the patient, not every image
            try (Statement grant = db.createStatement()) {
                grant.execute("insert into patient_grants (patient_id, username, granted_by, granted_at) values"
                        + " ('00000000-0000-0000-0000-000000000042', 'dr-who', 'admin', now())");
            }
            List<Object> granted = new ArrayList<>();
            String grantedScan = Studies.scan("dr-who", Timestamp.from(Instant.now()), UUID.randomUUID(), 256,
                    granted);
            assertThat(plan(db, grantedScan, granted)).contains("Index Cond: (patient_id = g.patient_id)")
                    .doesNotContain("Seq Scan on images");
            String shownBefore = plan(db, Studies.SHOWN_BEFORE, List.of(new String[] {"1.2.7", "1.2.8"},
                    Timestamp.from(Instant.now().minus(Duration.ofDays(3))), UUID.randomUUID()));
            assertThat(shownBefore).contains("images_study_idx").doesNotContain("Seq Scan");
            // the page's studies grouped by their UIDs: by the study index too, with V27's statistics
            List<Object> pageParams = new ArrayList<>();
            String grouping = new Studies.Filter(null, null, null,
                    IntStream.rangeClosed(1, 101).mapToObj(n -> "1.2." + n).toList(), null, null).where(pageParams);
            assertThat(plan(db, Studies.select(grouping), pageParams)).contains("images_study_idx")
                    .doesNotContain("Seq Scan");

            // image n was received n minutes ago, of study 1.2.(n % 10000): the latest studies are 1.2.1, 1.2.2, …
            Studies studies = new Studies(JdbcClient.create(new SingleConnectionDataSource(db, true)));
            List<String> walked = new ArrayList<>();
            String cursor = null;
            for (int page = 0; page < 5; page++) {
                Page<Studies.Study> latest = studies.latest(null, 100, cursor);
                latest.items().forEach(study -> {
                    walked.add(study.studyInstanceUid());
                    assertThat(study.imageCount()).isEqualTo(10);
                });
                cursor = latest.nextCursor();
            }
            assertThat(walked).hasSize(500).containsExactlyElementsOf(
                    IntStream.rangeClosed(1, 500).mapToObj(n -> "1.2." + n).toList());
            // patient 42's images are n = 41, 1041, 2041, …: its 10 studies 1.2.41, 1.2.1041, … 1.2.9041, newest first
            List<String> grantedWalk = new ArrayList<>();
            String grantedCursor = null;
            do {
                Page<Studies.Study> latest = studies.latest("dr-who", 3, grantedCursor);
                latest.items().forEach(study -> grantedWalk.add(study.studyInstanceUid()));
                grantedCursor = latest.nextCursor();
            } while (grantedCursor != null);
            assertThat(grantedWalk).containsExactlyElementsOf(
                    IntStream.range(0, 10).mapToObj(k -> "1.2." + (41 + 1000 * k)).toList());
        }
    }

    /** 1,000 patients, 100 images each: 100,000 images of 10,000 studies, one hospital PatientID a patient. */
    private static void fill(Connection db) throws Exception {
        try (Statement sql = db.createStatement()) {
            sql.execute("""
                    insert into patients (id, name, username, created_at)
                    select ('00000000-0000-0000-0000-' || lpad(p::text, 12, '0'))::uuid, 'P' || p, 'p' || p, now()
                    from generate_series(1, 1000) p""");
            sql.execute("""
                    insert into images (id, patient_id, status, content_type, size_bytes, sha256, uploaded_at,
                                        attributes)
                    select gen_random_uuid(),
                           ('00000000-0000-0000-0000-' || lpad((n % 1000 + 1)::text, 12, '0'))::uuid,
                           'AVAILABLE', 'application/dicom', 1, repeat('0', 64), now() - n * interval '1 minute',
                           jsonb_build_object('dicom', jsonb_build_object('PatientID', 'MRN-' || (n % 1000 + 1),
                               'StudyInstanceUID', '1.2.' || (n % 10000),
                               'SeriesInstanceUID', '1.2.' || (n % 10000) || '.1',
                               'Modality', 'CT', 'StudyDate', '20260101'))
                    from generate_series(1, 100000) n""");
            sql.execute("analyze images");
        }
    }

    private static String plan(Connection db, String statement, List<Object> params) throws Exception {
        StringBuilder plan = new StringBuilder();
        try (PreparedStatement explain = db.prepareStatement("explain " + statement)) {
            bind(explain, params);
            try (ResultSet rs = explain.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
        }
        return plan.toString();
    }

    private static void bind(PreparedStatement statement, List<Object> params) throws Exception {
        for (int i = 0; i < params.size(); i++) {
            statement.setObject(i + 1, params.get(i));
        }
    }
}
