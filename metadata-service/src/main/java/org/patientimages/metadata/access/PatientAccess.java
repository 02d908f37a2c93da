package org.patientimages.metadata.access;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/** Patient grants: who may see which patient, and the check every read and write of patient data goes through. */
@Component
public class PatientAccess {

    /**
     * The SQL condition that limits rows to the caller's patients, {@code %s} their patient column. The column stands
     * outside the subquery, so even a bare {@code patient_id} names the row's, never the grants table's own.
     */
    public static final String GRANTED = " and %s in (select g.patient_id from patient_grants g where g.username = ?)";

    private final JdbcClient jdbc;

    PatientAccess(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public boolean permits(Caller caller, UUID patientId) {
        return !caller.restricted() || jdbc.sql("select count(*) from patient_grants where patient_id = ? and username = ?")
                .params(patientId, caller.name()).query(Long.class).single() > 0;
    }

    /** Passes when the caller may see the patient; otherwise the resource's own 404, marked as a denial. */
    public void require(Caller caller, UUID patientId, Supplier<ApiException> notFound) {
        if (!permits(caller, patientId)) {
            throw new AccessDenied(notFound.get(), patientId);
        }
    }

    public void grant(UUID patientId, String username, String grantedBy) {
        jdbc.sql("insert into patient_grants (patient_id, username, granted_by, granted_at) values (?, ?, ?, ?)"
                        + " on conflict do nothing")
                .params(patientId, username, grantedBy, Timestamps.sql(Timestamps.now())).update();
    }

    /**
     * Grants {@code into} to everyone granted {@code from} (a merge of one person registered twice), granted by
     * {@code grantedBy} now; grants {@code into} already had stay as they were. @return the usernames granted
     */
    public List<String> carryGrants(UUID from, UUID into, String grantedBy) {
        return jdbc.sql("""
                        insert into patient_grants (patient_id, username, granted_by, granted_at)
                        select ?, username, ?, ? from patient_grants where patient_id = ?
                        on conflict do nothing
                        returning username""")
                .params(into, grantedBy, Timestamps.sql(Timestamps.now()), from).query(String.class).list();
    }

    /** Revokes these usernames' grants of the patient (what a merge undone had carried over). */
    public void revokeAll(UUID patientId, List<String> usernames) {
        jdbc.sql("delete from patient_grants where patient_id = ? and username = any(?)")
                .params(patientId, usernames.toArray(String[]::new)).update();
    }

    public boolean revoke(UUID patientId, String username) {
        return jdbc.sql("delete from patient_grants where patient_id = ? and username = ?")
                .params(patientId, username).update() == 1;
    }

    public record Grant(String username, String grantedBy, Instant grantedAt) {
    }

    public List<Grant> grants(UUID patientId) {
        return jdbc.sql("select username, granted_by, granted_at from patient_grants where patient_id = ? order by username")
                .param(patientId)
                .query((rs, i) -> new Grant(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant())).list();
    }
}
