-- Deleting with a recovery window: a deleted image that was stored keeps its objects until restorable_until, and an
-- admin may restore it until then; afterwards the purge has a worker remove its objects and clears the column. A
-- deleted patient may be restored until its own restorable_until, with the images deleted with it.
alter table images add column restorable_until timestamptz;
alter table patients add column restorable_until timestamptz;
-- the purge's queue and the admins' list of deleted images that can still be restored
create index images_restorable_idx on images (restorable_until) where restorable_until is not null;
-- the change feed tells of a restored image
alter table image_changes drop constraint image_changes_type_check;
alter table image_changes add constraint image_changes_type_check
    check (type in ('AVAILABLE', 'UPDATED', 'DELETED', 'MOVED', 'RESTORED'));
