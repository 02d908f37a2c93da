-- A DICOM series' images (GET /v1/images?seriesInstanceUid=…, what a viewer opens from a study's series), and the
-- image of one instance (sopInstanceUid=…, to reconcile with a PACS): expression indexes like the study's (V5).
-- Built as V21's is (README, "Upgrading").
create index if not exists images_series_idx
    on images ((attributes -> 'dicom' ->> 'SeriesInstanceUID'), uploaded_at desc, id desc)
    where status <> 'DELETED';
create index if not exists images_sop_instance_idx on images ((attributes -> 'dicom' ->> 'SOPInstanceUID'))
    where status <> 'DELETED';
