-- The change feed: one row per change of an image that clients follow (GET /v1/changes), written in the transaction
-- that makes the change. Rows are read in the order of their writing transactions' ids and only below the oldest
-- transaction still running (pg_snapshot_xmin), so a reader never passes a row that commits later: no gaps.
create table image_changes (
    seq        bigint generated always as identity primary key,
    txid       xid8        not null default pg_current_xact_id(),
    image_id   uuid        not null,
    patient_id uuid        not null,
    type       text        not null check (type in ('AVAILABLE', 'UPDATED', 'DELETED', 'MOVED')),
    -- a MOVED image's patient before the move (patient_id is the one it moved to)
    moved_from uuid,
    at         timestamptz not null
);
create index image_changes_feed_idx on image_changes (txid, seq);
create index image_changes_patient_idx on image_changes (patient_id, txid, seq);
create index image_changes_moved_from_idx on image_changes (moved_from, txid, seq) where moved_from is not null;
-- how far the feed was pruned (past its retention): a cursor before this point has missed changes
create table image_changes_pruned (
    one  boolean primary key default true check (one),
    txid xid8   not null,
    seq  bigint not null
);
insert into image_changes_pruned (txid, seq) values ('0', 0);
