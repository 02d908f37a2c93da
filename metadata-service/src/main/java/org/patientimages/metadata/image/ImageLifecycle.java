package org.patientimages.metadata.image;

import org.patientimages.events.Topics;
import org.patientimages.events.v1.ImageDeleted;
import org.patientimages.metadata.feed.ChangeFeed;
import org.patientimages.metadata.outbox.OutboxRelay;
import org.patientimages.metadata.outbox.OutboxRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * What clients change on an image: its tags, name and description, its deletion and restoring, each told in the
 * change feed. A deleted image leaves every read at once. A stored one keeps its objects for the recovery window
 * ({@code patient-images.deletion.recovery-window}), in which an admin may restore it; then the purge removes them.
 * Objects leave the bucket through an {@code ImageDeleted} event in the outbox, which a worker acts on, so a crash in
 * between loses nothing.
 */
@Service
public class ImageLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ImageLifecycle.class);
    private static final int PURGE_BATCH = 1000;

    private final JdbcClient jdbc;
    private final OutboxRepository outbox;
    private final OutboxRelay relay;
    private final ChangeFeed feed;
    private final DeletionProperties deletion;
    private final LegalHolds holds;

    ImageLifecycle(JdbcClient jdbc, OutboxRepository outbox, OutboxRelay relay, ChangeFeed feed,
                   DeletionProperties deletion, LegalHolds holds) {
        this.jdbc = jdbc;
        this.outbox = outbox;
        this.relay = relay;
        this.feed = feed;
        this.deletion = deletion;
        this.holds = holds;
    }

    /** Links normalised tags to an image, creating the tags on first use. @return how many links are new */
    public int attachTags(UUID imageId, List<String> tags) {
        int added = 0;
        for (String tag : tags) {
            jdbc.sql("insert into tags (name) values (?) on conflict (name) do nothing").param(tag).update();
            added += jdbc.sql("""
                            insert into image_tags (image_id, tag_id) select ?, id from tags where name = ?
                            on conflict do nothing""")
                    .params(imageId, tag).update();
        }
        return added;
    }

    @Transactional
    public void replaceTags(UUID imageId, List<String> tags) {
        List<String> normalised = Tags.normalise(tags, "INVALID_TAG");
        lockLive(imageId);
        Set<String> before = Set.copyOf(jdbc.sql("""
                        delete from image_tags it using tags t where it.image_id = ? and t.id = it.tag_id
                        returning t.name""")
                .param(imageId).query(String.class).list());
        attachTags(imageId, normalised);
        updatedIf(!before.equals(Set.copyOf(normalised)), imageId);
    }

    @Transactional
    public void addTags(UUID imageId, List<String> tags) {
        List<String> normalised = Tags.normalise(tags, "INVALID_TAG");
        lockLive(imageId);
        int added = attachTags(imageId, normalised);
        long count = jdbc.sql("select count(*) from image_tags where image_id = ?").param(imageId).query(Long.class).single();
        Tags.requireAtMostMax((int) count, "TOO_MANY_TAGS");
        updatedIf(added > 0, imageId);
    }

    @Transactional
    public void removeTag(UUID imageId, String tag) {
        lockLive(imageId);
        int removed = jdbc.sql("""
                        delete from image_tags
                        where image_id = ? and tag_id in (select id from tags where name = ?)""")
                .params(imageId, Tags.normalise(tag, "INVALID_TAG")).update();
        updatedIf(removed > 0, imageId);
    }

    @Transactional
    public void update(UUID imageId, ImageChanges changes) {
        ImageChanges c = changes.validated();
        lockLive(imageId);
        int changed = 0;
        if (c.name() != null) {
            changed += jdbc.sql("update images set name = ? where id = ? and name is distinct from ?")
                    .params(c.name(), imageId, c.name()).update();
        }
        if (c.description() != null) {
            changed += jdbc.sql("update images set description = ? where id = ? and description is distinct from ?")
                    .params(c.description(), imageId, c.description()).update();
        }
        updatedIf(changed > 0, imageId);
    }

    /** Tells the change feed of an update that changed something; a call that changed nothing is no change. */
    private void updatedIf(boolean changed, UUID imageId) {
        if (changed) {
            feed.record(ChangeFeed.Type.UPDATED, imageId);
        }
    }

    /**
     * Moves an image whose job has ended to another patient (it was uploaded for the wrong one): the image and its
     * jobs, whose idempotency keys are dropped (they were the other patient's). The objects stay where they are:
     * their keys name the image, not the patient. The target is locked against its deletion meanwhile.
     * @return the patient it had (the same one when it already was that patient's, and nothing moved)
     */
    @Transactional
    public UUID move(UUID imageId, UUID patientId) {
        String status = lockLive(imageId);
        holds.requireNotHeld(imageId);
        if (status.equals("PENDING")) {
            throw new ApiException(HttpStatus.CONFLICT, "IMAGE_BUSY",
                    "Image " + imageId + " is still being stored; move it once its job has ended.", true);
        }
        if (jdbc.sql("select id from patients where id = ? and deleted_at is null for share").param(patientId)
                .query(UUID.class).optional().isEmpty()) {
            throw ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + patientId + ".");
        }
        UUID from = jdbc.sql("select patient_id from images where id = ?").param(imageId).query(UUID.class).single();
        if (from.equals(patientId)) {
            return from;
        }
        jdbc.sql("update images set patient_id = ? where id = ?").params(patientId, imageId).update();
        jdbc.sql("update jobs set patient_id = ?, idempotency_key = null where image_id = ?").params(patientId, imageId)
                .update();
        feed.recordMove(imageId, from);
        return from;
    }

    /**
     * Moves every image of a patient, and their jobs, to another (a merge of one person registered twice), deleted
     * ones in their recovery window too, so that a restore brings them back to the patient they now belong to. The
     * change feed tells each image that was not deleted as {@code MOVED}. The caller holds both patients' rows
     * locked, and has made sure that none of the images is still being stored.
     * @return the images that moved
     */
    @Transactional
    public List<UUID> moveAll(UUID from, UUID to) {
        List<Moved> moved = jdbc.sql("update images set patient_id = ? where patient_id = ? returning id, status")
                .params(to, from).query((rs, n) -> new Moved(rs.getObject("id", UUID.class), rs.getString("status")))
                .list();
        jdbc.sql("update jobs set patient_id = ?, idempotency_key = null where patient_id = ?").params(to, from)
                .update();
        return told(moved, from);
    }

    /**
     * Moves back what a merge moved (its undoing): those of these images that are still {@code from}'s, and their
     * jobs, go to {@code to}; images moved on since stay where they are. Told in the change feed as a merge's are.
     * The caller holds both patients' rows locked, and has made sure that none of the images is being stored.
     * @return the images that moved
     */
    @Transactional
    public List<UUID> moveBack(List<UUID> imageIds, UUID from, UUID to) {
        List<Moved> moved = jdbc.sql("""
                        update images set patient_id = ? where id = any(?::uuid[]) and patient_id = ?
                        returning id, status""")
                .params(to, imageIds.toArray(UUID[]::new), from)
                .query((rs, n) -> new Moved(rs.getObject("id", UUID.class), rs.getString("status"))).list();
        jdbc.sql("update jobs set patient_id = ?, idempotency_key = null where image_id = any(?::uuid[])")
                .params(to, moved.stream().map(Moved::id).toArray(UUID[]::new)).update();
        return told(moved, from);
    }

    private record Moved(UUID id, String status) {
    }

    /** Tells each moved image that is not deleted as {@code MOVED} from {@code from}. @return all that moved */
    private List<UUID> told(List<Moved> moved, UUID from) {
        List<UUID> told = moved.stream().filter(m -> !m.status().equals("DELETED")).map(Moved::id).toList();
        if (!told.isEmpty()) {
            feed.recordMoves(told, from);
        }
        return moved.stream().map(Moved::id).toList();
    }

    /** Whether any of these images is still being stored (a job retried on it). */
    public boolean storing(List<UUID> imageIds) {
        return jdbc.sql("select exists (select 1 from images where id = any(?::uuid[]) and status = 'PENDING')")
                .param(imageIds.toArray(UUID[]::new)).query(Boolean.class).single();
    }

    /**
     * Deletes an image whose job has ended. A stored image keeps its objects for the recovery window, in which an
     * admin may restore it; an image never stored has them removed at once.
     */
    @Transactional
    public void delete(UUID imageId) {
        delete(imageId, Timestamps.now(), false);
    }

    /**
     * Deletes an image as {@link #delete(UUID)} does, as of {@code at} (its patient's deletion); with {@code purge}
     * its objects are removed at once.
     */
    public void delete(UUID imageId, Instant at, boolean purge) {
        String status = lockLive(imageId);
        holds.requireNotHeld(imageId);
        if (status.equals("PENDING")) {
            throw new ApiException(HttpStatus.CONFLICT, "IMAGE_BUSY",
                    "Image " + imageId + " is still being stored; delete it once its job has ended.", true);
        }
        markDeleted(imageId, at, status.equals("AVAILABLE") && !purge ? deletion.restorableUntil(at) : null);
    }

    /**
     * Deletes the image of a job a client cancelled, while it is still being stored. A worker may store objects of
     * it after this: when it reports the end of that job, {@link #deleteObjectsAgain} removes them.
     */
    @Transactional
    public void deleteCancelled(UUID imageId) {
        lockLive(imageId);
        markDeleted(imageId, Timestamps.now(), null);
    }

    /** Removes a deleted image's objects once more: a worker stored some after the image was deleted. */
    @Transactional
    public void deleteObjectsAgain(UUID imageId) {
        String bucket = jdbc.sql("""
                        select coalesce(bucket, '') from images
                        where id = ? and status = 'DELETED' and restorable_until is null""")
                .param(imageId).query(String.class).optional().orElse(null);
        if (bucket != null) {
            publishDeletion(imageId, bucket);
        }
    }

    /**
     * Deletes an image and removes its objects at once, without a recovery window; also an image already deleted
     * and still restorable. 404 for an image whose objects are gone already.
     */
    @Transactional
    public void purge(UUID imageId) {
        String status = jdbc.sql("select status from images where id = ? for update").param(imageId)
                .query(String.class).optional()
                .orElseThrow(() -> notFound(imageId));
        if (!status.equals("DELETED")) {
            delete(imageId, Timestamps.now(), true);
            return;
        }
        holds.requireNotHeld(imageId);
        List<String> bucket = jdbc.sql("""
                        update images set restorable_until = null where id = ? and restorable_until is not null
                        returning coalesce(bucket, '')""")
                .param(imageId).query(String.class).list();
        if (bucket.isEmpty()) {
            throw notFound(imageId);
        }
        publishDeletion(imageId, bucket.get(0));
    }

    /**
     * Purges the deleted images whose recovery window has closed, oldest first, a batch at a time; not those of a
     * patient under a legal hold, whose objects stay until it is released. @return how many
     */
    @Scheduled(fixedDelayString = "${patient-images.deletion.purge-interval:1m}",
            initialDelayString = "${patient-images.deletion.purge-interval:1m}")
    @Transactional
    public int purgeDue() {
        List<Purged> due = jdbc.sql("""
                        update images set restorable_until = null
                        where id in (select i.id from images i where i.restorable_until <= ?
                                     and not exists (select 1 from patients p
                                                     where p.id = i.patient_id and p.legal_hold_reason is not null)
                                     order by i.restorable_until limit ? for update skip locked)
                        returning id, coalesce(bucket, '') as bucket""")
                .params(Timestamps.sql(Timestamps.now()), PURGE_BATCH)
                .query((rs, n) -> new Purged(rs.getObject("id", UUID.class), rs.getString("bucket"))).list();
        due.forEach(p -> publishDeletion(p.imageId(), p.bucket()));
        if (!due.isEmpty()) {
            log.info("purged {} deleted image(s) whose recovery window had closed", due.size());
        }
        return due.size();
    }

    private record Purged(UUID imageId, String bucket) {
    }

    /**
     * Restores a deleted image in its recovery window: it is {@code AVAILABLE} again with all it had. An image that
     * is not deleted is left as it is.
     */
    @Transactional
    public void restore(UUID imageId) {
        Deleted image = jdbc.sql("""
                        select i.status, i.restorable_until, p.deleted_at as patient_deleted_at
                        from images i join patients p on p.id = i.patient_id where i.id = ? for update of i""")
                .param(imageId)
                .query((rs, n) -> new Deleted(rs.getString("status"),
                        Timestamps.instant(rs.getTimestamp("restorable_until")), rs.getTimestamp("patient_deleted_at") != null))
                .optional().orElseThrow(() -> notFound(imageId));
        if (!image.status().equals("DELETED")) {
            return;
        }
        // a legal hold keeps the objects past the window, so they can still be restored
        if (image.restorableUntil() == null
                || !image.restorableUntil().isAfter(Timestamps.now()) && !holds.isHeld(imageId)) {
            throw ApiException.conflict("IMAGE_NOT_RESTORABLE", "Image " + imageId + " cannot be restored: its "
                    + "objects are gone (its recovery window closed, it was purged, or it was never stored).");
        }
        if (image.patientDeleted()) {
            throw ApiException.conflict("PATIENT_DELETED", "The patient of image " + imageId
                    + " is deleted; restore the patient, which restores the images deleted with it.");
        }
        restore(List.of(imageId));
    }

    private record Deleted(String status, Instant restorableUntil, boolean patientDeleted) {
    }

    /** Restores a patient's images deleted with it (at {@code at}) whose recovery window is still open. */
    public int restoreDeletedWith(UUID patientId, Instant at) {
        List<UUID> ids = jdbc.sql("""
                        select id from images where patient_id = ? and status = 'DELETED' and deleted_at = ?
                        and restorable_until > ? for update""")
                .params(patientId, Timestamps.sql(at), Timestamps.sql(Timestamps.now())).query(UUID.class).list();
        restore(ids);
        return ids.size();
    }

    private void restore(List<UUID> imageIds) {
        if (imageIds.isEmpty()) {
            return;
        }
        jdbc.sql("""
                        update images set status = 'AVAILABLE', deleted_at = null, restorable_until = null
                        where id = any(?::uuid[])""")
                .param(imageIds.stream().map(UUID::toString).toArray(String[]::new)).update();
        feed.record(ChangeFeed.Type.RESTORED, imageIds);
    }

    /** Marks an image deleted; its objects go now, or once {@code restorableUntil} has passed. */
    private void markDeleted(UUID imageId, Instant at, Instant restorableUntil) {
        String bucket = jdbc.sql("""
                        update images set status = 'DELETED', deleted_at = ?, restorable_until = ? where id = ?
                        returning coalesce(bucket, '')""")
                .params(Timestamps.sql(at), restorableUntil == null ? null : Timestamps.sql(restorableUntil), imageId)
                .query(String.class).single();
        feed.record(ChangeFeed.Type.DELETED, imageId);
        if (restorableUntil == null) {
            publishDeletion(imageId, bucket);
        }
    }

    /** An {@code ImageDeleted} event in the outbox, by which a worker removes the image's objects. */
    private void publishDeletion(UUID imageId, String bucket) {
        ImageDeleted event = ImageDeleted.newBuilder().setEventId(UUID.randomUUID().toString())
                .setImageId(imageId.toString()).setBucket(bucket).setObjectPrefix("images/" + imageId + "/").build();
        outbox.add(Topics.IMAGE_DELETIONS, imageId.toString(), event.toByteArray(), Timestamps.now());
        relay.wakeAfterCommit();
    }

    /** Locks a live image for this transaction and tells its status; 404 for one that is gone. */
    private String lockLive(UUID imageId) {
        return jdbc.sql("select status from images where id = ? and status <> 'DELETED' for update").param(imageId)
                .query(String.class).optional()
                .orElseThrow(() -> notFound(imageId));
    }

    private static ApiException notFound(UUID imageId) {
        return ApiException.notFound("IMAGE_NOT_FOUND", "No image with id " + imageId + ".");
    }
}
