-- What each merge moved and granted (POST /v1/patients/{id}/merge), so that one made by mistake can be undone
-- (POST /v1/patients/{id}/unmerge): a row per patient merged away, removed when its merge is undone. Merges made
-- before this migration have none, and are not undone by a call.
create table patient_merges (
    patient_id   uuid        primary key references patients (id),
    into_patient uuid        not null references patients (id),
    merged_at    timestamptz not null,
    merged_by    text        not null,
    -- every image that moved, deleted ones in their recovery window too
    image_ids    uuid[]      not null,
    -- the usernames the merge granted the patient kept (carryGrants), not those it had already
    granted      text[]      not null
);
