-- the change feed tells of an image whose upload failed (a retry that succeeds later is told AVAILABLE)
alter table image_changes drop constraint image_changes_type_check;
alter table image_changes add constraint image_changes_type_check
    check (type in ('AVAILABLE', 'UPDATED', 'DELETED', 'MOVED', 'RESTORED', 'FAILED'));
