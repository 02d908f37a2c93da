package org.patientimages.metadata.patient;

import org.patientimages.metadata.image.Image;
import org.patientimages.metadata.web.Like;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

@Repository
public class PatientRepository {

    private static final String SELECT = """
            select p.*, (select count(*) from images i where i.patient_id = p.id and i.status <> 'DELETED') as image_count
            from patients p where p.deleted_at is null""";

    /** The deleted patients that can still be restored, each with the images that would come back with it. */
    private static final String SELECT_DELETED = """
            select p.*, (select count(*) from images i where i.patient_id = p.id and i.status = 'DELETED'
                         and i.deleted_at = p.deleted_at and i.restorable_until > now()) as image_count
            from patients p where p.deleted_at is not null and p.restorable_until > now()""";

    private static final RowMapper<Row> ROW = (rs, i) -> new Row(
            rs.getObject("id", UUID.class), rs.getString("name"), rs.getString("username"), rs.getString("identifier"),
            rs.getObject("birth_date", LocalDate.class), rs.getTimestamp("created_at").toInstant(),
            rs.getLong("image_count"),
            rs.getString("legal_hold_reason") == null ? null : new Patient.LegalHold(rs.getString("legal_hold_reason"),
                    rs.getString("legal_hold_by"), Timestamps.format(rs.getTimestamp("legal_hold_at"))),
            rs.getTimestamp("deleted_at") == null ? null : new Image.Deletion(
                    Timestamps.format(rs.getTimestamp("deleted_at")), Timestamps.format(rs.getTimestamp("restorable_until"))));

    private final JdbcClient jdbc;

    PatientRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    record Row(UUID id, String name, String username, String identifier, LocalDate birthDate, Instant createdAt,
               long imageCount, Patient.LegalHold legalHold, Image.Deletion deletion) {
        Patient toApi() {
            return new Patient(id.toString(), name, username, identifier,
                    birthDate == null ? null : birthDate.toString(), Timestamps.format(createdAt), imageCount,
                    legalHold, deletion);
        }

        String cursor() {
            return Paging.cursor(createdAt, id);
        }
    }

    void insert(Row row) {
        jdbc.sql("""
                        insert into patients (id, name, username, identifier, birth_date, created_at)
                        values (?, ?, ?, ?, ?, ?)""")
                .params(row.id(), row.name(), row.username(), row.identifier(), row.birthDate(),
                        Timestamps.sql(row.createdAt()))
                .update();
    }

    public Optional<Row> find(UUID id) {
        return jdbc.sql(SELECT + " and p.id = ?").param(id).query(ROW).optional();
    }

    /** Changes the fields given (null: unchanged); false when the patient does not exist. */
    boolean update(UUID id, PatientChanges changes) {
        return jdbc.sql("""
                        update patients set name = coalesce(?, name), username = coalesce(?, username),
                            identifier = coalesce(?, identifier), birth_date = coalesce(?, birth_date)
                        where id = ? and deleted_at is null""")
                .params(changes.name(), changes.username(), changes.identifier(),
                        changes.birthDate() == null ? null : LocalDate.parse(changes.birthDate()), id).update() == 1;
    }


    /** Sets or clears (null) the identifier of a live patient. */
    void identify(UUID id, String identifier) {
        jdbc.sql("update patients set identifier = ? where id = ? and deleted_at is null").params(identifier, id)
                .update();
    }

    /** Marks the patient deleted, restorable until {@code restorableUntil} (null: not restorable). */
    void markDeleted(UUID id, Instant at, Instant restorableUntil) {
        jdbc.sql("update patients set deleted_at = ?, restorable_until = ? where id = ?")
                .params(Timestamps.sql(at), restorableUntil == null ? null : Timestamps.sql(restorableUntil), id)
                .update();
    }

    /** Retires a patient merged into another: deleted, not restorable, with a pointer to the other. */
    void markMerged(UUID id, UUID into, Instant at) {
        jdbc.sql("""
                        update patients set deleted_at = ?, restorable_until = null, merged_into = ?, merged_at = ?
                        where id = ?""")
                .params(Timestamps.sql(at), into, Timestamps.sql(at), id).update();
    }

    /** A patient merged away is live again (its merge undone). */
    void unmarkMerged(UUID id) {
        jdbc.sql("update patients set deleted_at = null, merged_into = null, merged_at = null where id = ?").param(id)
                .update();
    }

    /** The patient a retired patient was merged into, and when; empty for one that was not merged. */
    Optional<Merged> merged(UUID id) {
        return jdbc.sql("select merged_into, merged_at from patients where id = ? and merged_into is not null")
                .param(id).query((rs, n) -> new Merged(rs.getObject("merged_into", UUID.class),
                        rs.getTimestamp("merged_at").toInstant())).optional();
    }

    record Merged(UUID into, Instant at) {
    }

    /**
     * A patient's row as locked: when it was deleted and until when it can be restored (both null for a live
     * patient), whether it is under a legal hold, and its identifier.
     */
    record Locked(Instant deletedAt, Instant restorableUntil, boolean held, String identifier) {
    }

    /**
     * Locks the patient's row for this transaction (images moving to it, holds being set, deletions and restores
     * wait) and tells its state; empty for an unknown patient.
     */
    Optional<Locked> lock(UUID id) {
        return jdbc.sql("""
                        select deleted_at, restorable_until, legal_hold_reason, identifier from patients
                        where id = ? for update""")
                .param(id)
                .query((rs, n) -> new Locked(Timestamps.instant(rs.getTimestamp("deleted_at")),
                        Timestamps.instant(rs.getTimestamp("restorable_until")),
                        rs.getString("legal_hold_reason") != null, rs.getString("identifier")))
                .optional();
    }

    /** Puts the live patient under a legal hold, or changes its reason; false for a patient that is not live. */
    boolean hold(UUID id, String reason, String by, Instant at) {
        return jdbc.sql("""
                        update patients set legal_hold_reason = ?, legal_hold_by = ?, legal_hold_at = ?
                        where id = ? and deleted_at is null""")
                .params(reason, by, Timestamps.sql(at), id).update() == 1;
    }

    /** Releases the live patient's legal hold; false for a patient that is not live. */
    boolean release(UUID id) {
        return jdbc.sql("""
                        update patients set legal_hold_reason = null, legal_hold_by = null, legal_hold_at = null
                        where id = ? and deleted_at is null""")
                .param(id).update() == 1;
    }

    void markRestored(UUID id) {
        jdbc.sql("update patients set deleted_at = null, restorable_until = null where id = ?").param(id).update();
    }

    public boolean exists(UUID id) {
        return jdbc.sql("select count(*) from patients where id = ? and deleted_at is null").param(id)
                .query(Long.class).single() > 0;
    }

    /** Whether any of the patient's images is still being stored (its job has not ended). */
    boolean storing(UUID id) {
        return jdbc.sql("select exists (select 1 from images where patient_id = ? and status = 'PENDING')").param(id)
                .query(Boolean.class).single();
    }

    /** The patient's images that have not been deleted. */
    List<UUID> liveImages(UUID id) {
        return jdbc.sql("select id from images where patient_id = ? and status <> 'DELETED' for update")
                .param(id).query(UUID.class).list();
    }

    /**
     * Whether the patient is live, holding a key-share lock on its row until the transaction ends: a registration
     * asks so, so that a deletion or a merge of the patient, which locks its row for update, either waits for the
     * registration (and then sees its image) or has happened (and the registration sees the patient gone).
     */
    public boolean lockLive(UUID id) {
        return jdbc.sql("select id from patients where id = ? and deleted_at is null for key share").param(id)
                .query(UUID.class).optional().isPresent();
    }

    /**
     * A page of patients; with {@code identifier}, the one that has it; with {@code text}, those whose name or
     * username holds it (any case); with a grantee, only the patients granted to them; with {@code deleted}, the
     * deleted ones that can still be restored instead of the live ones.
     */
    List<Row> list(String username, String identifier, String text, LocalDate birthDate, String grantee,
                   Paging.Key after, int limit, boolean deleted) {
        StringBuilder sql = new StringBuilder(deleted ? SELECT_DELETED : SELECT);
        var params = new java.util.ArrayList<Object>();
        if (username != null) {
            sql.append(" and p.username = ?");
            params.add(username);
        }
        if (identifier != null) {
            sql.append(" and p.identifier = ?");
            params.add(identifier);
        }
        if (text != null) {
            sql.append(" and (lower(p.name) like ? or lower(p.username) like ?)");
            params.add(Like.containing(text));
            params.add(Like.containing(text));
        }
        if (birthDate != null) {
            sql.append(" and p.birth_date = ?");
            params.add(birthDate);
        }
        if (grantee != null) {
            sql.append(org.patientimages.metadata.access.PatientAccess.GRANTED.formatted("p.id"));
            params.add(grantee);
        }
        if (after != null) {
            sql.append(" and (p.created_at, p.id) > (?, ?)");
            params.add(Timestamps.sql(after.at()));
            params.add(after.id());
        }
        sql.append(" order by p.created_at, p.id limit ?");
        params.add(limit + 1);
        return jdbc.sql(sql.toString()).params(params).query(ROW).list();
    }
}
