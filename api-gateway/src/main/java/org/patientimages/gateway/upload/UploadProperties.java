package org.patientimages.gateway.upload;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;


/**
 * How large an uploaded file may be. The
 * limit is enforced from the declared length before anything is read and again while streaming.
 */
@ConfigurationProperties("patient-images.upload")
public record UploadProperties(@DefaultValue("2GB") DataSize maxFileSize) {
}
