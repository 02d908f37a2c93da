package org.patientimages.metadata;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

        // an instance stored twice is two images and one instance
        for (int i = 0; i < 2; i++) {
            Uploads.anAvailableImage(http, kafka, patient, """
                    {"dicom":{"StudyInstanceUID":"1.2.3.ct","StudyDate":"20261101","SeriesInstanceUID":"1.2.3.ct.2",\
                    "Modality":"CT","SOPInstanceUID":"1.2.3.ct.2.9"}}""");
        }
        JsonNode again = http.get("/internal/v1/patients/" + patient + "/studies").json().path("items").get(0);
        assertThat(again.path("imageCount").asLong()).isEqualTo(6);
        assertThat(again.path("instanceCount").asLong()).isEqualTo(5);
        assertThat(again.path("series").get(1).path("seriesInstanceUid").asString()).isEqualTo("1.2.3.ct.2");
        assertThat(again.path("series").get(1).path("imageCount").asLong()).isEqualTo(3);
        assertThat(again.path("series").get(1).path("instanceCount").asLong()).isEqualTo(2);

        // the patient's name (the service's, never the files'), the study's description and accession number, each
        // series' number and description, as the files carry them
        Uploads.anAvailableImage(http, kafka, patient, """
                {"dicom":{"StudyInstanceUID":"1.2.3.ct","StudyDate":"20261101","SeriesInstanceUID":"1.2.3.ct.1",\
                "Modality":"CT","StudyDescription":"CT Kopf","AccessionNumber":"ACC-1","SeriesNumber":7,\
                "SeriesDescription":"Axial"}}""");
        Uploads.anAvailableImage(http, kafka, patient, """
                {"dicom":{"StudyInstanceUID":"1.2.3.ct","StudyDate":"20261101","SeriesInstanceUID":"1.2.3.ct.1",\
                "Modality":"CT","SeriesNumber":3}}""");
        JsonNode described = http.get("/internal/v1/patients/" + patient + "/studies").json().path("items").get(0);
        assertThat(described.path("patientName").asString()).isEqualTo("Jane Smith");
        assertThat(described.path("patientBirthDate").isNull()).as("none given").isTrue();
        assertThat(http.send("PATCH", "/internal/v1/patients/" + patient, Map.of("birthDate", "1970-01-31")).status())
                .isEqualTo(200);
        assertThat(http.get("/internal/v1/patients/" + patient + "/studies").json().path("items").get(0)
                .path("patientBirthDate").asString()).isEqualTo("1970-01-31");
        assertThat(described.path("studyDescription").asString()).isEqualTo("CT Kopf");
        assertThat(described.path("accessionNumber").asString()).isEqualTo("ACC-1");
        JsonNode axial = described.path("series").get(0);
        assertThat(axial.path("seriesNumber").asLong()).as("the lowest of its images'").isEqualTo(3);
        assertThat(axial.path("seriesDescription").asString()).isEqualTo("Axial");
        assertThat(described.path("series").get(1).path("seriesNumber").isNull()).isTrue();
        assertThat(http.get("/internal/v1/patients/" + patient + "/studies").json().path("items").get(1)
                .path("studyDescription").isNull()).isTrue();

        var unknown = http.get("/internal/v1/patients/" + UUID.randomUUID() + "/studies");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        var stranger = http.get("/internal/v1/patients/" + patient + "/studies", "X-Caller", "nobody",
                "X-Caller-Roles", "clinician");
        assertThat(stranger.status()).isEqualTo(404);
    }

    @Test
    void studies_are_found_across_patients_by_the_patient_id_their_files_carry_their_uids_or_dates() {
        String first = Uploads.aPatient(http);
        String second = Uploads.aPatient(http);
        String mrn = "MRN-" + UUID.randomUUID();
        String other = "MRN-" + UUID.randomUUID();
        String ct = "1.2.9." + Math.abs(first.hashCode());
        String mr = ct + ".2";
        String us = ct + ".3";
        slice(first, ct, "20240105", ct + ".1", "CT", mrn);
        slice(first, ct, "20240105", ct + ".1", "CT", mrn);
        slice(first, mr, "20250607", mr + ".1", "MR", mrn);
        slice(second, us, "20240105", us + ".1", "US", other);

        JsonNode byIdentifier = http.get("/internal/v1/studies?patientIdentifier=" + mrn).json();
        assertThat(uids(byIdentifier)).containsExactly(mr, ct);
        JsonNode found = byIdentifier.path("items").get(1);
        assertThat(found.path("patientId").asString()).isEqualTo(first);
        assertThat(found.path("patientIdentifier").asString()).isEqualTo(mrn);
        assertThat(found.path("imageCount").asLong()).isEqualTo(2);
        assertThat(uids(http.get("/internal/v1/studies?studyInstanceUid=" + us + "&studyInstanceUid=" + ct).json()))
                .as("the same day: the latest upload first").containsExactly(us, ct);
        assertThat(uids(http.get("/internal/v1/studies?studyInstanceUid=" + us).json())).containsExactly(us);
        // both days included; the other patient's study of that day too
        JsonNode day = http.get("/internal/v1/studies?takenFrom=2024-01-05&takenTo=2024-01-05").json();
        assertThat(uids(day)).contains(ct, us).doesNotContain(mr);
        // one a page across patients
        List<String> paged = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = http.get("/internal/v1/studies?studyInstanceUid=" + us + "&studyInstanceUid=" + ct
                    + "&studyInstanceUid=" + mr + "&limit=1" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            page.path("items").forEach(s -> paged.add(s.path("studyInstanceUid").asString()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        assertThat(paged).containsExactly(mr, us, ct);

        // a clinician finds only what is granted to them
        var stranger = http.get("/internal/v1/studies?patientIdentifier=" + mrn, "X-Caller", "nobody",
                "X-Caller-Roles", "clinician");
        assertThat(stranger.status()).isEqualTo(200);
        assertThat(stranger.json().path("items")).isEmpty();
        // and a grant of one patient is not a grant of another's studies
        String clinician = "clinician-" + UUID.randomUUID();
        assertThat(http.send("PUT", "/internal/v1/patients/" + second + "/grants/" + clinician, null).status())
                .isEqualTo(200);
        var granted = http.get("/internal/v1/studies?takenFrom=2024-01-05&takenTo=2024-01-05", "X-Caller",
                clinician, "X-Caller-Roles", "clinician");
        assertThat(uids(granted.json())).containsExactly(us);
        for (String refused : List.of("?PatientID=" + mrn, "?takenFrom=20240105", "?limit=0")) {
            var answer = http.get("/internal/v1/studies" + refused);
            assertThat(answer.status()).as(refused).isEqualTo(400);
        }
    }

    @Test
    void with_nothing_narrowing_them_the_latest_received_studies_come_first_page_by_page_none_twice() {
        String first = Uploads.aPatient(http);
        String second = Uploads.aPatient(http);
        String base = "1.2.8." + Math.abs(first.hashCode());
        String s1 = base + ".1";
        String s2 = base + ".2";
        String s3 = base + ".3";
        String s4 = base + ".4";
        // received in this order: s1, s2, s3, s1 again (a slice more, now its newest), s4; the dates do not count
        slice(first, s1, "20300101", s1 + ".1", "CT");
        slice(second, s2, "20200101", s2 + ".1", "MR");
        slice(first, s3, "20250101", s3 + ".1", "CT");
        slice(first, s1, "20300101", s1 + ".1", "CT");
        slice(second, s4, "20100101", s4 + ".1", "US");

        JsonNode top = http.get("/internal/v1/studies?limit=3").json();
        assertThat(uids(top)).containsExactly(s4, s1, s3);
        assertThat(top.path("items").get(1).path("imageCount").asLong()).isEqualTo(2);
        assertThat(top.path("nextCursor").isString()).isTrue();

        // one a page: s1's older slice lies below s3, and s1 was shown already
        List<String> paged = new ArrayList<>();
        String cursor = null;
        for (int page = 0; page < 6 && (page == 0 || cursor != null); page++) {
            JsonNode answer = http.get("/internal/v1/studies?limit=1" + (cursor == null ? "" : "&cursor=" + cursor))
                    .json();
            answer.path("items").forEach(s -> paged.add(s.path("studyInstanceUid").asString()));
            cursor = answer.path("nextCursor").isNull() ? null : answer.path("nextCursor").asString();
        }
        assertThat(paged.subList(0, 4)).containsExactly(s4, s1, s3, s2);
        assertThat(paged).doesNotHaveDuplicates();

        // a clinician sees only the studies of the patients granted to them
        String clinician = "clinician-" + UUID.randomUUID();
        assertThat(http.send("PUT", "/internal/v1/patients/" + second + "/grants/" + clinician, null).status())
                .isEqualTo(200);
        var granted = http.get("/internal/v1/studies?limit=10", "X-Caller", clinician,
                "X-Caller-Roles", "clinician");
        assertThat(uids(granted.json())).containsExactly(s4, s2);
        assertThat(granted.json().path("nextCursor").isNull()).isTrue();

        // a cursor of the other order is not this one's
        String narrowed = http.get("/internal/v1/studies?studyInstanceUid=" + s1 + "&studyInstanceUid=" + s2
                + "&limit=1").json().path("nextCursor").asString();
        var mixed = http.get("/internal/v1/studies?cursor=" + narrowed);
        assertThat(mixed.status()).isEqualTo(400);
        assertThat(mixed.json().path("code").asString()).isEqualTo("INVALID_CURSOR");
    }

    private static List<String> uids(JsonNode page) {
        List<String> uids = new ArrayList<>();
        page.path("items").forEach(s -> uids.add(s.path("studyInstanceUid").asString()));
        return uids;
    }

    private Uploads.Stored slice(String patient, String study, String date, String series, String modality,
                                 String patientIdentifier) {
        return Uploads.anAvailableImage(http, kafka, patient, """
                {"width":512,"height":512,"dicom":{"StudyInstanceUID":"%s","StudyDate":"%s","SeriesInstanceUID":"%s",\
                "Modality":"%s","PatientID":"%s"}}""".formatted(study, date, series, modality, patientIdentifier));
    }

    private Uploads.Stored slice(String patient, String study, String date, String series, String modality) {
        return Uploads.anAvailableImage(http, kafka, patient, """
                {"width":512,"height":512,"dicom":{"StudyInstanceUID":"%s","StudyDate":"%s","SeriesInstanceUID":"%s",\
                "Modality":"%s"}}""".formatted(study, date, series, modality));
    }
}
