package org.patientimages.metadata.image;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.RealPostgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Finding images by the date they were taken among many, against a real PostgreSQL with the service's migrations in
 * a database of its own: the search's SQL, as {@link ImageSearch} writes it, is served by the expression index of
 * migration V21, not by a read of every image.
 */
class ImageTakenPlanIT {

    private static final String DATABASE = "image_taken";

    @Test
    void a_range_of_days_taken_is_looked_up_in_the_expression_index() throws Exception {
        try (Connection db = RealPostgres.migratedDatabase(DATABASE); Statement sql = db.createStatement()) {
            sql.execute("insert into patients (id, name, username, created_at)"
                    + " values ('00000000-0000-0000-0000-000000000001', 'P', 'p', now())");
            // 100,000 studies over ten years, 27 or 28 a day
            sql.execute("""
                    insert into images (id, patient_id, status, content_type, size_bytes, sha256, uploaded_at,
                                        attributes)
                    select gen_random_uuid(), '00000000-0000-0000-0000-000000000001', 'AVAILABLE',
                           'application/dicom', 1, repeat('0', 64), now() - n * interval '1 minute',
                           jsonb_build_object('dicom', jsonb_build_object('StudyDate',
                               to_char(date '2015-01-01' + n % 3650, 'YYYYMMDD')))
                    from generate_series(1, 100000) n""");
            sql.execute("analyze images");
            ImageSearch.Sql search = ImageSearch.parse(Map.of("takenFrom", List.of("2020-03-01"),
                    "takenTo", List.of("2020-03-07")), null).toSql();
            StringBuilder plan = new StringBuilder();
            try (PreparedStatement explain = db.prepareStatement("explain select i.id from images i"
                    + search.where() + search.orderBy())) {
                bind(explain, search.params());
                try (ResultSet rs = explain.executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
            }
            assertThat(plan.toString()).contains("images_taken_idx").doesNotContain("Seq Scan");
            try (PreparedStatement count = db.prepareStatement("select count(*) from images i" + search.where())) {
                bind(count, search.params().subList(0, search.params().size() - 1)); // without the page's limit
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("7 days of 27 or 28 studies").isBetween(189L, 196L);
                }
            }
        }
    }

    private static void bind(PreparedStatement statement, List<Object> params) throws Exception {
        for (int i = 0; i < params.size(); i++) {
            statement.setObject(i + 1, params.get(i));
        }
    }
}
