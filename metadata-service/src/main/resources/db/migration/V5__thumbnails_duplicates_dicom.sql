-- Thumbnails rendered by the workers, duplicates (same bytes for the same patient) and DICOM search.
alter table images add column thumbnail_key varchar(1024);
alter table images add column duplicate_of uuid references images (id);
-- the earlier image of a patient with the same bytes, looked up at every upload
create index images_patient_sha_idx on images (patient_id, sha256) where status <> 'DELETED';
-- modality and studyInstanceUid filters of GET /v1/images
create index images_modality_idx on images ((attributes -> 'dicom' ->> 'Modality'), uploaded_at desc, id desc)
    where status <> 'DELETED';
create index images_study_idx on images ((attributes -> 'dicom' ->> 'StudyInstanceUID'), uploaded_at desc, id desc)
    where status <> 'DELETED';
