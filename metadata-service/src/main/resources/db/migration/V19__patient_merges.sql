-- Merging patients (one person registered twice, as a hospital's ADT merge does it): the duplicate's images and jobs
-- go to the patient it is merged into, and the duplicate is retired with a pointer there, so that a client holding
-- its id is told where its images went.
alter table patients
    add column merged_into uuid references patients (id),
    add column merged_at timestamptz;
