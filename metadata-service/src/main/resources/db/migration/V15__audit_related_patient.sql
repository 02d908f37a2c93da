-- A call that concerns a second patient names it too: an image moved from one patient to another is recorded under
-- the patient it went to (patient_id) and the one it left (related_patient_id), so that each patient's trail has it.
alter table audit_log add column related_patient_id uuid;
create index audit_log_by_related_patient on audit_log (related_patient_id, at, id) where related_patient_id is not null;
