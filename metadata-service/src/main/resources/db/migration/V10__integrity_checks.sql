-- Integrity checks (fixity): a worker reads an image's object back and compares its size and SHA-256 with what was
-- recorded when it was stored. The last outcome and its time are kept on the image; a check asked for and not yet
-- answered has its request time, so that the scheduler keeps a bounded number in flight and asks again for one
-- whose answer was lost.
alter table images
    add column integrity_status text check (integrity_status in ('INTACT', 'CORRUPT', 'MISSING')),
    add column integrity_checked_at timestamptz,
    add column integrity_requested_at timestamptz;
-- the available images whose last check (or storing) is oldest come first
create index images_integrity_due_idx on images ((coalesce(integrity_checked_at, stored_at)))
    where status = 'AVAILABLE';
-- the checks in flight (few)
create index images_integrity_requested_idx on images (integrity_requested_at)
    where integrity_requested_at is not null;
-- the images that failed their last check (few, one hopes), newest upload first as searches list them
create index images_integrity_failed_idx on images (uploaded_at desc, id desc)
    where integrity_status in ('CORRUPT', 'MISSING') and status <> 'DELETED';
