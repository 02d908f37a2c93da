-- Deleting images and patients: rows stay (jobs and audit keep their references) but leave every read.
alter table images add column deleted_at timestamptz;
alter table patients add column deleted_at timestamptz;
create index images_patient_live_idx on images (patient_id) where status <> 'DELETED';
