package org.patientimages.metadata.feed;

import org.patientimages.metadata.access.PatientAccess;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Isolation;
import org.springframework.transaction.annotation.Transactional;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * The feed of image changes that clients follow to keep a copy in step (a viewer's cache, a PACS bridge, an
 * analysis pipeline): an image became {@code AVAILABLE}, was {@code UPDATED} (name, description, tags),
 * {@code MOVED} to another patient, {@code DELETED}, {@code RESTORED} (an admin undid its deletion), or
 * {@code FAILED} (its upload failed: its job says why; a retry that succeeds is told {@code AVAILABLE}). A change
 * is written in the transaction that makes it, so the feed never tells of a change that did not happen, nor misses
 * one that did. It is read in the order of the writing transactions' ids, and only below the oldest transaction
 * still running: a reader's cursor never passes a change that commits later, whatever the order in which
 * transactions commit. Changes older than
 * {@code retention} are pruned; a cursor from before the pruned point gets {@code 410 CHANGES_CURSOR_EXPIRED}, its
 * client syncs again by searching.
 */
@Service
public class ChangeFeed {

    public enum Type { AVAILABLE, UPDATED, DELETED, MOVED, RESTORED, FAILED }

    /**
     * One change; {@code at} is when it was made. A {@code MOVED} image is now the patient's {@code patientId} and
     * was {@code movedFrom}'s (null for other changes); it shows in the feeds of both patients.
     */
    public record Change(String type, String imageId, String patientId, String movedFrom, String at) {
    }

    /**
     * A page of the feed. {@code nextCursor} is never null: it is where the next read goes on, also when there was
     * nothing new. {@code more} says that changes follow at once (read again without waiting).
     */
    public record ChangePage(List<Change> items, String nextCursor, boolean more) {
    }

    @ConfigurationProperties("patient-images.changes")
    public record Properties(@DefaultValue("30d") Duration retention) {
    }

    /** A place in the feed: after the change of that transaction id and sequence number. */
    record Position(long txid, long seq) implements Comparable<Position> {

        static final Position START = new Position(0, 0);

        static Position parse(String cursor) {
            String[] parts = Paging.decode(cursor, 2);
            try {
                return new Position(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("INVALID_CURSOR", "cursor is not one this service issued.");
            }
        }

        String cursor() {
            return Paging.encode(Long.toString(txid), Long.toString(seq));
        }

        @Override
        public int compareTo(Position other) {
            int byTxid = Long.compareUnsigned(txid, other.txid);
            return byTxid != 0 ? byTxid : Long.compare(seq, other.seq);
        }
    }

    /** A row's place in the feed, from its {@code txid::text as tx} and its {@code seq}. */
    private static final RowMapper<Position> POSITION =
            (rs, n) -> new Position(Long.parseUnsignedLong(rs.getString("tx")), rs.getLong("seq"));

    /** The transactions below this one have all ended: their changes are in the feed for good. */
    private static final String SETTLED = "txid < pg_snapshot_xmin(pg_current_snapshot())";
    private static final int PRUNE_BATCH = 10_000;

    private final JdbcClient jdbc;
    private final Properties properties;

    ChangeFeed(JdbcClient jdbc, Properties properties) {
        this.jdbc = jdbc;
        this.properties = properties;
    }

    /** Records a change of these images, in the caller's transaction. */
    public void record(Type type, Collection<UUID> imageIds) {
        jdbc.sql("""
                        insert into image_changes (image_id, patient_id, type, at)
                        select id, patient_id, ?, ? from images where id = any(?::uuid[]) order by id""")
                .params(type.name(), Timestamps.sql(Timestamps.now()),
                        imageIds.stream().map(UUID::toString).toArray(String[]::new))
                .update();
    }

    public void record(Type type, UUID imageId) {
        record(type, List.of(imageId));
    }

    /** Records that an image moved from one patient to the one it now has, in the caller's transaction. */
    public void recordMove(UUID imageId, UUID from) {
        recordMoves(List.of(imageId), from);
    }

    /** {@link #recordMove} for several images that left the same patient, in one statement. */
    public void recordMoves(List<UUID> imageIds, UUID from) {
        jdbc.sql("""
                        insert into image_changes (image_id, patient_id, type, moved_from, at)
                        select id, patient_id, 'MOVED', ?, ? from images where id = any(?::uuid[]) order by id""")
                .params(from, Timestamps.sql(Timestamps.now()),
                        imageIds.stream().map(UUID::toString).toArray(String[]::new)).update();
    }

    /**
     * The changes after {@code cursor} (from the oldest kept without one), of one patient or all, of the patients
     * granted to {@code grantee} when it is not null.
     */
    @Transactional(readOnly = true, isolation = Isolation.REPEATABLE_READ)
    public ChangePage read(String cursor, UUID patientId, String grantee, int limit) {
        Position pruned = pruned();
        Position after = cursor == null ? pruned : Position.parse(cursor);
        if (after.compareTo(pruned) < 0) {
            throw new ApiException(HttpStatus.GONE, "CHANGES_CURSOR_EXPIRED", "The changes after this cursor are"
                    + " older than the feed keeps (" + properties.retention().toDays() + " days); sync again by"
                    + " searching, then follow the feed from start=latest.", false);
        }
        StringBuilder sql = new StringBuilder("""
                select txid::text as tx, seq, image_id, patient_id, type, moved_from, at from image_changes
                where (txid, seq) > (?::xid8, ?) and\s""").append(SETTLED);
        List<Object> params = new ArrayList<>(List.of(Long.toUnsignedString(after.txid()), after.seq()));
        if (patientId != null) {
            sql.append(" and (patient_id = ? or moved_from = ?)");
            params.add(patientId);
            params.add(patientId);
        }
        if (grantee != null) {
            sql.append(" and (true").append(PatientAccess.GRANTED.formatted("image_changes.patient_id"))
                    .append(" or moved_from is not null")
                    .append(PatientAccess.GRANTED.formatted("image_changes.moved_from")).append(")");
            params.add(grantee);
            params.add(grantee);
        }
        sql.append(" order by txid, seq limit ?");
        params.add(limit + 1);
        List<Positioned> rows = jdbc.sql(sql.toString()).params(params).query((rs, n) -> new Positioned(
                POSITION.mapRow(rs, n),
                new Change(rs.getString("type"), rs.getString("image_id"), rs.getString("patient_id"),
                        rs.getString("moved_from"), Timestamps.format(rs.getTimestamp("at"))))).list();
        boolean more = rows.size() > limit;
        List<Positioned> page = more ? rows.subList(0, limit) : rows;
        Position next = page.isEmpty() ? after : page.get(page.size() - 1).position();
        return new ChangePage(page.stream().map(Positioned::change).toList(), next.cursor(), more);
    }

    /** An empty page whose cursor is the end of the feed now: what follows it is new. */
    @Transactional(readOnly = true, isolation = Isolation.REPEATABLE_READ)
    public ChangePage latest() {
        Position end = jdbc.sql("select txid::text as tx, seq from image_changes where " + SETTLED
                        + " order by txid desc, seq desc limit 1")
                .query(POSITION).optional().orElseGet(this::pruned);
        return new ChangePage(List.of(), end.cursor(), false);
    }

    /** A cursor at the feed's start as it is now: reading from it gives the oldest change the feed still keeps. */
    @Transactional(readOnly = true)
    public String oldest() {
        return pruned().cursor();
    }

    private record Positioned(Position position, Change change) {
    }

    private record Dated(Position position, Instant at) {
    }

    private Position pruned() {
        return jdbc.sql("select txid::text as tx, seq from image_changes_pruned").query(POSITION).optional()
                .orElse(Position.START);
    }

    /**
     * Removes the changes older than the retention from the head of the feed, in feed order (a change made later
     * but written by an earlier transaction goes with them), and remembers where the feed now starts.
     * @return how many were removed
     */
    @Scheduled(fixedDelayString = "${patient-images.changes.prune-interval:1h}",
            initialDelayString = "${patient-images.changes.prune-interval:1h}")
    @Transactional
    public int prune() {
        Instant cutoff = Timestamps.now().minus(properties.retention());
        int removed = 0;
        while (true) {
            List<Dated> head = jdbc.sql("select txid::text as tx, seq, at from image_changes where " + SETTLED
                            + " order by txid, seq limit ?").param(PRUNE_BATCH)
                    .query((rs, n) -> new Dated(POSITION.mapRow(rs, n), rs.getTimestamp("at").toInstant())).list();
            int old = 0;
            while (old < head.size() && head.get(old).at().isBefore(cutoff)) {
                old++;
            }
            if (old == 0) {
                return removed;
            }
            Position last = head.get(old - 1).position();
            String txid = Long.toUnsignedString(last.txid());
            removed += jdbc.sql("delete from image_changes where (txid, seq) <= (?::xid8, ?)")
                    .params(txid, last.seq()).update();
            jdbc.sql("update image_changes_pruned set txid = ?::xid8, seq = ?").params(txid, last.seq()).update();
            if (old < PRUNE_BATCH) {
                return removed;
            }
        }
    }
}
