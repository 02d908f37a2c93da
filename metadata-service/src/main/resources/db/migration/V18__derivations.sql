-- Deriving again: an admin may ask for an image's attributes and thumbnail to be read again from its stored bytes
-- (an image stored before the workers could read its format). The request rides on an integrity check, which reads
-- the bytes anyway: derive_requested_at is when it was asked for and not yet answered, derived_at when the last
-- one was done from intact bytes.
alter table images
    add column derive_requested_at timestamptz,
    add column derived_at timestamptz;
-- the derivations waiting (few at a time, however many are asked for in one call, as the scheduler drains them)
create index images_derive_requested_idx on images (derive_requested_at)
    where derive_requested_at is not null;
