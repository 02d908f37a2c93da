-- A patient's date of birth (optional): the second identifier a clinician checks beside the name, and the DICOM
-- study list's Patient's Birth Date. A column on patients, not images: quick.
alter table patients add column if not exists birth_date date;
-- patients found by name and date of birth (GET /v1/patients?q=smith&birthDate=1970-01-31)
create index if not exists patients_birth_date_idx on patients (birth_date) where deleted_at is null;
