-- Statistics of the images' study UID. Its index (V5) is partial, and the planner takes no statistics from a partial
-- index's expression: without these, the images of a hundred studies (a page of the latest studies, the DICOMweb
-- study list at the service's root) were estimated at half the table and read by a scan of every image.
create statistics if not exists images_study_uid_stats on ((attributes -> 'dicom' ->> 'StudyInstanceUID'))
    from images;
analyze images;
