package org.patientimages.metadata;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** A patient's DICOM studies, grouped from what the workers read, against a real PostgreSQL. */
class StudiesIT extends RunningService {

    @Test
    void a_patients_studies_come_newest_first_with_their_series_counted_and_page_by_page() {
        String patient = Uploads.aPatient(http);
        // a CT study of two series (3 + 1 slices), an older MR study of one, and a photo, which is no study
        for (int i = 0; i < 3; i++) {
            slice(patient, "1.2.3.ct", "20261101", "1.2.3.ct.1", "CT");
        }
        slice(patient, "1.2.3.ct", "20261101", "1.2.3.ct.2", "CT");
        slice(patient, "1.2.3.mr", "20250607", "1.2.3.mr.1", "MR");
        Uploads.anAvailableImage(http, kafka, patient, "{\"width\":10,\"height\":10}");
        // a deleted slice is no longer counted
        assertThat(http.send("DELETE", "/internal/v1/images/" + slice(patient, "1.2.3.gone", "20261201", "1.2.3.gone.1",
                "CT").imageId(), null).status()).isEqualTo(204);

        JsonNode all = http.get("/internal/v1/patients/" + patient + "/studies").json();
        assertThat(all.path("items")).hasSize(2);
        JsonNode ct = all.path("items").get(0);
        assertThat(ct.path("studyInstanceUid").asString()).isEqualTo("1.2.3.ct");
        assertThat(ct.path("studyDate").asString()).isEqualTo("20261101");
        assertThat(ct.path("modalities").toString()).isEqualTo("[\"CT\"]");
        assertThat(ct.path("seriesCount").asLong()).isEqualTo(2);
        assertThat(ct.path("imageCount").asLong()).isEqualTo(4);
        assertThat(ct.path("series").get(0).path("seriesInstanceUid").asString()).isEqualTo("1.2.3.ct.1");
        assertThat(ct.path("series").get(0).path("imageCount").asLong()).isEqualTo(3);
        assertThat(ct.path("series").get(1).path("imageCount").asLong()).isEqualTo(1);
        assertThat(all.path("items").get(1).path("studyInstanceUid").asString()).isEqualTo("1.2.3.mr");
        assertThat(all.path("nextCursor").isNull()).isTrue();

        // one a page: the same studies in the same order, none twice
        List<String> paged = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = http.get("/internal/v1/patients/" + patient + "/studies?limit=1"
                    + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.path("items").forEach(s -> paged.add(s.path("studyInstanceUid").asString()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        assertThat(paged).containsExactly("1.2.3.ct", "1.2.3.mr");

        var unknown = http.get("/internal/v1/patients/" + UUID.randomUUID() + "/studies");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        var stranger = http.get("/internal/v1/patients/" + patient + "/studies", "X-Caller", "nobody",
                "X-Caller-Roles", "clinician");
        assertThat(stranger.status()).isEqualTo(404);
    }

    private Uploads.Stored slice(String patient, String study, String date, String series, String modality) {
        return Uploads.anAvailableImage(http, kafka, patient, """
                {"width":512,"height":512,"dicom":{"StudyInstanceUID":"%s","StudyDate":"%s","SeriesInstanceUID":"%s",\
                "Modality":"%s"}}""".formatted(study, date, series, modality));
    }
}
