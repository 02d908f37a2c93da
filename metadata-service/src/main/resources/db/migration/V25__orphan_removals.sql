-- The orphans an admin asked to remove (DELETE /v1/storage/orphans/{id}), asked before their objects go: an
-- adoption of the same id by another admin at the same moment is then refused, instead of recording an image whose
-- bytes are being removed. Kept: a removal cut off midway is asked again, and the id is never adopted after.
create table orphan_removals (
    image_id     uuid primary key,
    requested_by text        not null,
    requested_at timestamptz not null default now()
);
