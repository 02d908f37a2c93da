-- A patient's identifier in the hospital (its MRN, the Patient ID (0010,0020) its DICOM files carry): set when the
-- patient is created or changed, found by GET /v1/patients?identifier=…, and what a DICOMweb store at the service's
-- root (POST /v1/dicomweb/studies) files each instance under. One live patient per identifier: a deleted or merged
-- patient lets go of its identifier (restoring or unmerging it while another holds it is 409 IDENTIFIER_TAKEN).
-- A new nullable column and an index over a table of patients, not images: quick to build.
alter table patients add column identifier varchar(64);
create unique index patients_identifier_key on patients (identifier) where deleted_at is null;
-- A merge gives the patient kept the identifier of the one merged away when it has none (as a hospital's ADT merge
-- does), and its undoing takes it back: which identifier a merge gave, null when it gave none.
alter table patient_merges add column identifier varchar(64);
