package org.patientimages.gateway.audit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AuditFilterTest {

    @Test
    void the_log_shows_the_services_ids_but_no_dicom_uid() {
        String patient = "/v1/patients/6f1c2a9e-1b2c-4d5e-8f90-123456789abc";
        assertThat(AuditFilter.logged(patient + "/dicomweb/studies/1.2.826.0.1.3680043.2.1125.2/series/1.2.3"
                + "/instances/1.2.3.4")).isEqualTo(patient + "/dicomweb/studies/{uid}/series/{uid}/instances/{uid}");
        assertThat(AuditFilter.logged(patient + "/dicomweb/studies/1.2.3/series")).isEqualTo(patient
                + "/dicomweb/studies/{uid}/series");
        assertThat(AuditFilter.logged(patient + "/images")).isEqualTo(patient + "/images");
        assertThat(AuditFilter.logged("/v1/images/7d1e0c52-0a34-4c55-9b1e-2f6c1e1d0a11/content"))
                .isEqualTo("/v1/images/7d1e0c52-0a34-4c55-9b1e-2f6c1e1d0a11/content");
    }
}
