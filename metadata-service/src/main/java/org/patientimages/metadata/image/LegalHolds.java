package org.patientimages.metadata.image;

import org.patientimages.metadata.web.ApiException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.UUID;

/**
 * The legal holds on patients, as the image changes they forbid see them: a held patient's images can be neither
 * deleted, purged nor moved away. The check share-locks the patient's row, so a hold being placed and a deletion
 * being made never pass each other: one waits for the other.
 */
@Component
public class LegalHolds {

    private final JdbcClient jdbc;

    LegalHolds(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** {@code 409 LEGAL_HOLD} when the image's patient is under a legal hold. */
    void requireNotHeld(UUID imageId) {
        List<String> reason = jdbc.sql("""
                        select p.legal_hold_reason from images i join patients p on p.id = i.patient_id
                        where i.id = ? for share of p""")
                .param(imageId).query(String.class).list();
        if (!reason.isEmpty() && reason.get(0) != null) {
            throw held("The patient of image " + imageId);
        }
    }

    /** Whether the image's patient is under a legal hold. */
    boolean isHeld(UUID imageId) {
        return jdbc.sql("""
                        select count(*) from images i join patients p on p.id = i.patient_id
                        where i.id = ? and p.legal_hold_reason is not null""")
                .param(imageId).query(Long.class).single() > 0;
    }

    public static ApiException held(String who) {
        return ApiException.conflict("LEGAL_HOLD", who + " is under a legal hold: its images can be neither deleted,"
                + " purged nor moved away until an admin releases it.");
    }
}
