package org.patientimages.gateway.upload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.time.Duration;
import java.util.List;


/**
 * What an upload may be: its content types, decided from the bytes, and its size. The
 * limit is enforced from the declared length before anything is read and again while streaming.
 * {@code patientCheckTtl}: how long a caller's access to a patient, checked before a body is read, is taken as
 * known (see {@link PatientCheck}); zero checks every upload. {@code maxArchiveFiles}: how many files one archive
 * ({@code POST …/images/archive}) may hold; their bytes together are within {@code maxFileSize}.
 */
@ConfigurationProperties("patient-images.upload")
public record UploadProperties(@DefaultValue("2GB") DataSize maxFileSize,
                               @DefaultValue({"image/jpeg", "image/png", "image/tiff", "image/webp", "image/heic",
                                       "image/heif", "application/dicom", "application/pdf",
                                       "application/octet-stream"})
                               List<String> allowedContentTypes,
                               @DefaultValue("10s") Duration patientCheckTtl,
                               @DefaultValue("1000") int maxArchiveFiles) {
}
