-- The duplicate lookup of every upload asks for a live image of the patient with the same SHA-256. By the index on
-- (patient, SHA-256), the planner, which plans from averages, often preferred an index on the patient alone and
-- read every live image of the patient: the more images a patient had, the more each upload cost. With the
-- SHA-256 first, the bytes are found at once, whatever the patient has.
create index images_sha256_idx on images (sha256) where status <> 'DELETED';
drop index images_patient_sha_idx;
