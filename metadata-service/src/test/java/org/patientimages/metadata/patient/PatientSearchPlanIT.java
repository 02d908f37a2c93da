package org.patientimages.metadata.patient;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.RealPostgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Finding a patient by a part of the name among many, against a real PostgreSQL with the service's migrations in a
 * database of its own: the trigram indexes serve it, not a read of every patient.
 */
class PatientSearchPlanIT {

    private static final String DATABASE = "patient_search";

    @Test
    void a_part_of_a_name_or_username_is_looked_up_in_the_trigram_indexes() throws Exception {
        try (Connection db = RealPostgres.migratedDatabase(DATABASE); Statement sql = db.createStatement()) {
            sql.execute("""
                    insert into patients (id, name, username, created_at)
                    select gen_random_uuid(), 'Patient ' || md5(n::text), 'user' || n, now()
                    from generate_series(1, 200000) n""");
            sql.execute("insert into patients (id, name, username, created_at)"
                    + " values (gen_random_uuid(), 'Jane Smithson', 'jsmithson', now())");
            sql.execute("analyze patients");
            for (String column : new String[] {"name", "username"}) {
                StringBuilder plan = new StringBuilder();
                try (ResultSet rs = sql.executeQuery("explain select id from patients p where p.deleted_at is null"
                        + " and (lower(p.name) like '%smithso%' or lower(p.username) like '%smithso%')")) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
                assertThat(plan.toString()).as(column).contains("patients_" + column + "_trgm_idx")
                        .doesNotContain("Seq Scan");
            }
            try (ResultSet rs = sql.executeQuery("select count(*) from patients p where lower(p.name) like '%smithso%'"
                    + " or lower(p.username) like '%smithso%'")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(1);
            }
        }
    }
}
