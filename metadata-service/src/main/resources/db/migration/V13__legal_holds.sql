-- A legal hold on a patient (litigation, an investigation, a complaint): while it is set, none of the patient's
-- images can be deleted, purged or moved away, nor the patient deleted, and the purge keeps the objects of the
-- images deleted before it. Null reason: no hold.
alter table patients add column legal_hold_reason text;
alter table patients add column legal_hold_by text;
alter table patients add column legal_hold_at timestamptz;
