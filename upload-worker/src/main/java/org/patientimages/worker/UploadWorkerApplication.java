package org.patientimages.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * One member of the upload-workers consumer group: takes {@code UploadAccepted} events, pushes the staged
 * bytes into the bucket, verifies them and reports every step as a {@code JobEvent}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class UploadWorkerApplication {

    public static void main(String[] args) {
        SpringApplication.run(UploadWorkerApplication.class, args);
    }
}
