package org.patientimages.metadata.patient;

import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** What each merge moved and granted (migration V23), kept until the merge is undone. */
@Repository
class PatientMerges {

    /**
     * A merge of a patient into {@code into}: the images it moved, the usernames it granted {@code into}, and the
     * identifier it gave {@code into} (null when none).
     */
    record Merge(UUID into, List<UUID> imageIds, List<String> granted, String identifier) {
    }

    private final JdbcClient jdbc;

    PatientMerges(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    void record(UUID merged, Merge merge, String by, Instant at) {
        jdbc.sql("""
                        insert into patient_merges (patient_id, into_patient, merged_at, merged_by, image_ids, granted,
                                                    identifier)
                        values (?, ?, ?, ?, ?, ?, ?)""")
                .params(merged, merge.into(), Timestamps.sql(at), by, merge.imageIds().toArray(UUID[]::new),
                        merge.granted().toArray(String[]::new), merge.identifier())
                .update();
    }

    /** The merge of this patient, its row locked for the transaction; empty when none is recorded. */
    Optional<Merge> lock(UUID merged) {
        return jdbc.sql("""
                        select into_patient, image_ids, granted, identifier from patient_merges where patient_id = ?
                        for update""")
                .param(merged)
                .query((rs, n) -> new Merge(rs.getObject("into_patient", UUID.class),
                        List.of((UUID[]) rs.getArray("image_ids").getArray()),
                        List.of((String[]) rs.getArray("granted").getArray()), rs.getString("identifier")))
                .optional();
    }

    /** The patient the recorded merge of this one went into, without a lock; empty when none is recorded. */
    Optional<UUID> into(UUID merged) {
        return jdbc.sql("select into_patient from patient_merges where patient_id = ?").param(merged)
                .query(UUID.class).optional();
    }

    void forget(UUID merged) {
        jdbc.sql("delete from patient_merges where patient_id = ?").param(merged).update();
    }
}
