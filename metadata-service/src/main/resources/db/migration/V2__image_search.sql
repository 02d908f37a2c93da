-- Search over images (GET /v1/images): keyset pagination by upload time or name, filters by content type,
-- tags (image_tags_tag_idx) and case-insensitive text in name or description (trigram indexes).
create extension if not exists pg_trgm;

create index images_uploaded_idx on images (uploaded_at desc, id desc) where status <> 'DELETED';
create index images_name_idx on images ((coalesce(name, '')), id) where status <> 'DELETED';
create index images_patient_name_idx on images (patient_id, (coalesce(name, '')), id) where status <> 'DELETED';
create index images_content_type_idx on images (content_type, uploaded_at desc) where status <> 'DELETED';
create index images_name_trgm_idx on images using gin (lower(coalesce(name, '')) gin_trgm_ops);
create index images_description_trgm_idx on images using gin (lower(coalesce(description, '')) gin_trgm_ops);
