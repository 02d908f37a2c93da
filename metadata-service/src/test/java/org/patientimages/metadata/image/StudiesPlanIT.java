package org.patientimages.metadata.image;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.RealPostgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Finding a person's studies across patients by the PatientID their files carry, among many, against a real
 * PostgreSQL with the service's migrations in a database of its own: the grouping's SQL, as {@link Studies} writes
 * it, is served by the expression index of migration V24, not by a read of every image.
 */
class StudiesPlanIT {

    private static final String DATABASE = "studies_across";

    @Test
    void studies_by_the_patient_id_of_their_files_are_looked_up_in_the_expression_index() throws Exception {
        try (Connection db = RealPostgres.migratedDatabase(DATABASE); Statement sql = db.createStatement()) {
            // 1,000 patients, 100 images each: 100,000 images of 10,000 studies, one hospital PatientID a patient
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
            List<Object> params = new ArrayList<>();
            String where = Studies.Filter.parse(Map.of("patientIdentifier", List.of("MRN-42")), null).where(params);
            StringBuilder plan = new StringBuilder();
            try (PreparedStatement explain = db.prepareStatement("explain " + Studies.select(where))) {
                bind(explain, params);
                try (ResultSet rs = explain.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
            }
            assertThat(plan.toString()).contains("images_dicom_patient_idx").doesNotContain("Seq Scan");
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

    private static void bind(PreparedStatement statement, List<Object> params) throws Exception {
        for (int i = 0; i < params.size(); i++) {
            statement.setObject(i + 1, params.get(i));
        }
    }
}
