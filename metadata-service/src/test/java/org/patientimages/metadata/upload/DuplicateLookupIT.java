package org.patientimages.metadata.upload;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.RealPostgres;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The duplicate lookup of every upload, against a real PostgreSQL with the service's migrations, in a database of
 * its own: among many patients with an image each (and many images deleted), one with thousands (a CT series)
 * is not read through to find one SHA-256. The plan asked for is the generic one, made from averages, which PostgreSQL uses for a
 * statement the JDBC driver has prepared on the server after its fifth run.
 */
class DuplicateLookupIT {

    private static final String DATABASE = "duplicate_lookup";

    @Test
    void finds_an_earlier_image_of_a_patient_with_thousands_by_reading_it_alone() throws Exception {
        try (Connection db = RealPostgres.migratedDatabase(DATABASE); Statement sql = db.createStatement()) {
            sql.execute("""
                    insert into patients (id, name, username, created_at)
                    select gen_random_uuid(), 'Patient ' || n, 'patient' || n, now() from generate_series(0, 400) n""");
            sql.execute("""
                    insert into images (id, patient_id, status, content_type, size_bytes, sha256, uploaded_at)
                    select gen_random_uuid(), p.id, 'AVAILABLE', 'application/octet-stream', 4096,
                           encode(sha256(convert_to(p.id::text || '/' || g, 'UTF8')), 'hex'), now()
                    from patients p cross join generate_series(1, case p.username when 'patient0' then 3000 else 1 end) g""");
            // images come and go: the deleted ones leave entries behind in the indexes until a vacuum
            sql.execute("alter table images set (autovacuum_enabled = false)");
            sql.execute("""
                    insert into images (id, patient_id, status, content_type, size_bytes, sha256, uploaded_at)
                    select gen_random_uuid(), p.id, 'AVAILABLE', 'application/octet-stream', 4096,
                           encode(sha256(convert_to(p.id::text || '/gone/' || g, 'UTF8')), 'hex'), now()
                    from patients p cross join generate_series(1, 100) g""");
            sql.execute("update images set status = 'DELETED' where sha256 in (select encode(sha256(convert_to("
                    + "p.id::text || '/gone/' || g, 'UTF8')), 'hex') from patients p cross join generate_series(1, 100) g)");
            sql.execute("analyze patients, images");
            String patient;
            String sha256;
            try (ResultSet rs = sql.executeQuery("""
                    select i.patient_id, i.sha256 from images i join patients p on p.id = i.patient_id
                    where p.username = 'patient0' and i.status = 'AVAILABLE' order by i.sha256 limit 1""")) {
                rs.next();
                patient = rs.getString(1);
                sha256 = rs.getString(2);
            }
            sql.execute("set plan_cache_mode = force_generic_plan");
            sql.execute("prepare lookup(uuid, text, bigint) as " + numbered(UploadRegistrar.EARLIER_WITH_SAME_BYTES));
            JsonNode plan;
            try (ResultSet rs = sql.executeQuery("explain (analyze, format json) execute lookup('" + patient + "', '"
                    + sha256 + "', 4096)")) {
                rs.next();
                plan = JsonMapper.builder().build().readTree(rs.getString(1)).get(0).get("Plan");
            }
            assertThat(plan.get("Actual Rows").asInt()).as("the earlier image is found").isEqualTo(1);
            assertThat(rowsReadAndDropped(plan)).as("rows read and dropped, in %s", plan).isZero();
        }
    }

    /** The statement with PostgreSQL's numbered parameters for JDBC's question marks. */
    private static String numbered(String statement) {
        StringBuilder numbered = new StringBuilder();
        int n = 0;
        for (char c : statement.toCharArray()) {
            numbered.append(c == '?' ? "$" + ++n : String.valueOf(c));
        }
        return numbered.toString();
    }

    private static long rowsReadAndDropped(JsonNode node) {
        long dropped = node.path("Rows Removed by Filter").asLong(0) + node.path("Rows Removed by Index Recheck").asLong(0);
        for (JsonNode child : node.path("Plans")) {
            dropped += rowsReadAndDropped(child);
        }
        return dropped;
    }
}
