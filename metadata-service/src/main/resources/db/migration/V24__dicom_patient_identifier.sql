-- DICOM studies across patients by the PatientID their files carry (the hospital's identifier; a DICOMweb search
-- at the service's root, GET /v1/dicomweb/studies?PatientID=…): an expression index like the study's (V5).
-- Built as V21's is (README, "Upgrading").
create index if not exists images_dicom_patient_idx on images ((attributes -> 'dicom' ->> 'PatientID'))
    where status <> 'DELETED';
