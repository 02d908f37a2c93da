package org.patientimages.metadata.image;

import org.patientimages.events.Topics;
import org.patientimages.events.v1.ImageDeleted;
import org.patientimages.metadata.feed.ChangeFeed;
import org.patientimages.metadata.outbox.OutboxRelay;
import org.patientimages.metadata.outbox.OutboxRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * What clients change on an image: its tags, name and description, and its deletion, each told in the change
 * feed. A deleted image leaves every read at once; its objects leave the bucket through an {@code ImageDeleted}
 * event in the outbox, which a worker acts on, so a crash in between loses nothing.
 */
@Service
public class ImageLifecycle {

    private final JdbcClient jdbc;
    private final OutboxRepository outbox;
    private final OutboxRelay relay;
    private final ChangeFeed feed;

    ImageLifecycle(JdbcClient jdbc, OutboxRepository outbox, OutboxRelay relay, ChangeFeed feed) {
        this.jdbc = jdbc;
        this.outbox = outbox;
        this.relay = relay;
        this.feed = feed;
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
     * @return whether it moved (false when it already was the patient's)
     */
    @Transactional
    public boolean move(UUID imageId, UUID patientId) {
        String status = lockLive(imageId);
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
            return false;
        }
        jdbc.sql("update images set patient_id = ? where id = ?").params(patientId, imageId).update();
        jdbc.sql("update jobs set patient_id = ?, idempotency_key = null where image_id = ?").params(patientId, imageId)
                .update();
        feed.recordMove(imageId, from);
        return true;
    }

    /** Deletes an image whose job has ended. */
    @Transactional
    public void delete(UUID imageId) {
        String status = lockLive(imageId);
        if (status.equals("PENDING")) {
            throw new ApiException(HttpStatus.CONFLICT, "IMAGE_BUSY",
                    "Image " + imageId + " is still being stored; delete it once its job has ended.", true);
        }
        markDeleted(imageId);
    }

    /**
     * Deletes the image of a job a client cancelled, while it is still being stored. A worker may store objects of
     * it after this: when it reports the end of that job, {@link #deleteObjectsAgain} removes them.
     */
    @Transactional
    public void deleteCancelled(UUID imageId) {
        lockLive(imageId);
        markDeleted(imageId);
    }

    /** Removes a deleted image's objects once more: a worker stored some after the image was deleted. */
    @Transactional
    public void deleteObjectsAgain(UUID imageId) {
        String bucket = jdbc.sql("select coalesce(bucket, '') from images where id = ? and status = 'DELETED'")
                .param(imageId).query(String.class).optional().orElse(null);
        if (bucket != null) {
            publishDeletion(imageId, bucket);
        }
    }

    private void markDeleted(UUID imageId) {
        String bucket = jdbc.sql("update images set status = 'DELETED', deleted_at = ? where id = ? returning coalesce(bucket, '')")
                .params(Timestamps.sql(Timestamps.now()), imageId).query(String.class).single();
        feed.record(ChangeFeed.Type.DELETED, imageId);
        publishDeletion(imageId, bucket);
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
                .orElseThrow(() -> ApiException.notFound("IMAGE_NOT_FOUND", "No image with id " + imageId + "."));
    }
}
