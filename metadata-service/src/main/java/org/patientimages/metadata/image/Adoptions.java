package org.patientimages.metadata.image;

import org.patientimages.metadata.feed.ChangeFeed;
import org.patientimages.metadata.integrity.IntegrityChecks;
import org.patientimages.metadata.patient.PatientRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.time.Instant;
import java.util.UUID;

/**
 * Gives an image whose row was lost (PostgreSQL restored to an earlier point) back to a patient, from its original
 * in the bucket, which the gateway's orphan report found without a row. The row is made from what the object tells:
 * its key, size, content type and time, and the SHA-256 it was stored with. What only the lost row knew (name,
 * description, file name, tags) stays lost. The image is {@code AVAILABLE} at once and told as such in the change
 * feed; its integrity check and derivation are asked for in the same transaction, so a worker reads the bytes back,
 * checks them against that SHA-256 and makes its attributes and thumbnail again. An orphan an admin is removing
 * ({@link #removing}) is not adopted, nor is an image with a row removed as an orphan.
 */
@Service
public class Adoptions {

    private static final Logger log = LoggerFactory.getLogger(Adoptions.class);

    /** An original without a row, as the gateway read it from the store. */
    public record Original(String bucket, String objectKey, String contentType, long sizeBytes, String sha256,
                           Instant storedAt) {
    }

    private final JdbcClient jdbc;
    private final PatientRepository patients;
    private final ChangeFeed feed;
    private final IntegrityChecks integrity;

    Adoptions(JdbcClient jdbc, PatientRepository patients, ChangeFeed feed, IntegrityChecks integrity) {
        this.jdbc = jdbc;
        this.patients = patients;
        this.feed = feed;
        this.integrity = integrity;
    }

    /**
     * Records the image as the patient's. The patient's row is locked against its deletion or merge meanwhile
     * (as an upload's registration does); an image id that has a row, whatever its status, is refused.
     */
    @Transactional
    public void adopt(UUID imageId, UUID patientId, Original original) {
        lock(imageId);
        String removal = jdbc.sql("select requested_by from orphan_removals where image_id = ?").param(imageId)
                .query(String.class).optional().orElse(null);
        if (removal != null) {
            throw ApiException.conflict("ORPHAN_BEING_REMOVED", "The objects of " + imageId
                    + " were asked to be removed (by " + removal + "); they are not adopted.");
        }
        if (!patients.lockLive(patientId)) {
            throw ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + patientId + ".");
        }
        int inserted = jdbc.sql("""
                        insert into images (id, patient_id, status, content_type, size_bytes, sha256, bucket,
                                            object_key, uploaded_at, stored_at)
                        values (?, ?, 'AVAILABLE', ?, ?, ?, ?, ?, ?, ?)
                        on conflict (id) do nothing""")
                .params(imageId, patientId, original.contentType(), original.sizeBytes(), original.sha256(),
                        original.bucket(), original.objectKey(), Timestamps.sql(original.storedAt()),
                        Timestamps.sql(original.storedAt()))
                .update();
        if (inserted == 0) {
            throw ApiException.conflict("IMAGE_EXISTS",
                    "Image " + imageId + " has a record; its objects are not orphans.");
        }
        feed.record(ChangeFeed.Type.AVAILABLE, imageId);
        integrity.request(imageId, true);
        log.info("image {} adopted from its object; its check and derivation are asked for", imageId);
    }

    /**
     * Records that an admin removes the objects of an orphan, before they go: refused ({@code 409 IMAGE_EXISTS}) for
     * an id that has a row, whatever its status; asked again, it is taken again (a removal cut off midway).
     */
    @Transactional
    public void removing(UUID imageId, String admin) {
        lock(imageId);
        if (jdbc.sql("select 1 from images where id = ?").param(imageId).query(Integer.class).optional().isPresent()) {
            throw ApiException.conflict("IMAGE_EXISTS", "Image " + imageId
                    + " has a record; its objects are not orphans (delete or purge the image instead).");
        }
        jdbc.sql("insert into orphan_removals (image_id, requested_by) values (?, ?) on conflict (image_id) do nothing")
                .params(imageId, admin).update();
    }

    /** An adoption and a removal of the same id wait for each other, so that one of them sees the other's row. */
    private void lock(UUID imageId) {
        jdbc.sql("select pg_advisory_xact_lock(hashtextextended(?, 0))").param(imageId.toString())
                .query(Object.class).single();
    }
}
