package org.patientimages.gateway.image;

import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DicomJsonTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String BASE = "http://pacs.example/v1/patients/p1/dicomweb";

    @Test
    void a_study_and_its_series_are_in_the_dicom_json_model_with_their_counts_and_retrieve_urls() {
        JsonNode study = json("""
                {"studyInstanceUid":"1.2.3","patientIdentifier":"MRN-0042","studyDate":"20261127",
                 "patientName":"Jane Smith","patientBirthDate":"1970-01-31","studyDescription":"CT Kopf",
                 "accessionNumber":"ACC-1",
                 "modalities":["CT","SR"],"seriesCount":2,
                 "imageCount":33,"instanceCount":31,
                 "series":[{"seriesInstanceUid":"1.2.3.4","modality":"CT","seriesNumber":3,
                            "seriesDescription":"Axial","imageCount":32,"instanceCount":30}]}""");

        assertThat(tree(DicomJson.study(study, BASE))).isEqualTo(json("""
                {"00080020":{"vr":"DA","Value":["20261127"]},"00080050":{"vr":"SH","Value":["ACC-1"]},
                 "00080061":{"vr":"CS","Value":["CT","SR"]},"00081030":{"vr":"LO","Value":["CT Kopf"]},
                 "00081190":{"vr":"UR","Value":["http://pacs.example/v1/patients/p1/dicomweb/studies/1.2.3"]},
                 "00100010":{"vr":"PN","Value":[{"Alphabetic":"Jane Smith"}]},
                 "00100020":{"vr":"LO","Value":["MRN-0042"]},"00100030":{"vr":"DA","Value":["19700131"]},
                 "0020000D":{"vr":"UI","Value":["1.2.3"]},"00201206":{"vr":"IS","Value":["2"]},
                 "00201208":{"vr":"IS","Value":["31"]}}"""));
        assertThat(tree(DicomJson.series(study, study.path("series").get(0), BASE))).isEqualTo(json("""
                {"00080060":{"vr":"CS","Value":["CT"]},"0008103E":{"vr":"LO","Value":["Axial"]},
                 "00081190":{"vr":"UR","Value":[
                     "http://pacs.example/v1/patients/p1/dicomweb/studies/1.2.3/series/1.2.3.4"]},
                 "0020000D":{"vr":"UI","Value":["1.2.3"]},"0020000E":{"vr":"UI","Value":["1.2.3.4"]},
                 "00200011":{"vr":"IS","Value":["3"]},"00201209":{"vr":"IS","Value":["30"]}}"""));
        // an instance stored twice is one instance; a metadata-service from before instances were counted: images
        assertThat(DicomJson.study(json("{\"studyInstanceUid\":\"9\",\"imageCount\":4}"), BASE)
                .get("00201208")).isEqualTo(DicomJson.element("IS", List.of("4")));
        // a study without a date or modality has neither attribute, rather than an empty one
        assertThat(DicomJson.study(json("{\"studyInstanceUid\":\"9\",\"modalities\":[]}"), BASE))
                .doesNotContainKeys(DicomJson.STUDY_DATE, DicomJson.MODALITIES_IN_STUDY, DicomJson.PATIENT_NAME,
                        DicomJson.STUDY_DESCRIPTION, DicomJson.ACCESSION_NUMBER, DicomJson.PATIENT_BIRTH_DATE);
    }

    @Test
    void an_instance_has_the_attributes_the_worker_read_and_no_retrieve_url_without_its_uids() {
        JsonNode image = json("""
                {"imageId":"i1","attributes":{"width":64,"dicom":{"SOPClassUID":"1.2.840.10008.5.1.4.1.1.2",
                 "SOPInstanceUID":"1.2.3.4.5","StudyInstanceUID":"1.2.3","SeriesInstanceUID":"1.2.3.4",
                 "Modality":"CT","SeriesNumber":3,"InstanceNumber":12,"Rows":64,"Columns":48,
                 "TransferSyntaxUID":"1.2.840.10008.1.2.1","PatientID":"MRN-0042"}}}""");

        assertThat(tree(DicomJson.instance(image, BASE))).isEqualTo(json("""
                {"00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.2"]},
                 "00080018":{"vr":"UI","Value":["1.2.3.4.5"]},"00080060":{"vr":"CS","Value":["CT"]},
                 "00081190":{"vr":"UR","Value":[
                     "http://pacs.example/v1/patients/p1/dicomweb/studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.5"]},
                 "00083002":{"vr":"UI","Value":["1.2.840.10008.1.2.1"]},
                 "0020000D":{"vr":"UI","Value":["1.2.3"]},"0020000E":{"vr":"UI","Value":["1.2.3.4"]},
                 "00200011":{"vr":"IS","Value":["3"]},"00200013":{"vr":"IS","Value":["12"]},
                 "00280010":{"vr":"US","Value":[64]},"00280011":{"vr":"US","Value":[48]}}"""));
        Map<String, Object> older = DicomJson.instance(json("""
                {"attributes":{"dicom":{"StudyInstanceUID":"1.2.3","Modality":"CT"}}}"""), BASE);
        assertThat(older).containsOnlyKeys(DicomJson.MODALITY, DicomJson.STUDY_INSTANCE_UID);
    }

    @Test
    void keys_match_by_keyword_or_tag_uid_lists_date_ranges_and_any_value_of_a_multi_valued_attribute() {
        List<Map<String, Object>> studies = List.of(
                study("1.1", "20260101", "CT"), study("1.2", "20260615", "MR", "SR"), study("1.3", null, "CT"));

        assertThat(uids(query("StudyInstanceUID", "1.1,1.3").apply(studies))).containsExactly("1.1", "1.3");
        assertThat(uids(query("0020000D", "1.2\\1.3").apply(studies))).containsExactly("1.2", "1.3");
        assertThat(uids(query("StudyDate", "20260101-20260301").apply(studies))).containsExactly("1.1");
        assertThat(uids(query("StudyDate", "20260201-").apply(studies))).containsExactly("1.2");
        assertThat(uids(query("StudyDate", "-20260615").apply(studies))).containsExactly("1.1", "1.2");
        assertThat(uids(query("StudyDate", "20260615").apply(studies))).containsExactly("1.2");
        assertThat(uids(query("ModalitiesInStudy", "SR").apply(studies))).containsExactly("1.2");
        assertThat(uids(query("00080061", "CT").apply(studies))).containsExactly("1.1", "1.3");
        assertThat(uids(query("StudyDate", "").apply(studies))).as("an empty key matches all")
                .containsExactly("1.1", "1.2", "1.3");
        assertThat(uids(query("ModalitiesInStudy", "CT", "offset", "1").apply(studies))).containsExactly("1.3");
        assertThat(uids(query("limit", "2", "includefield", "00081030").apply(studies)))
                .containsExactly("1.1", "1.2");
    }

    @Test
    void names_descriptions_and_accession_numbers_match_in_any_case_with_wildcards() {
        List<Map<String, Object>> studies = List.of(
                described("1.1", "Jane Smith", "CT HEAD W/O", "A-100"),
                described("1.2", "John Smithers", "MR Knee, left", "A-200"),
                described("1.3", "Anna Meyer", null, null));

        assertThat(uids(query("PatientName", "jane smith").apply(studies))).containsExactly("1.1");
        assertThat(uids(query("PatientName", "*SMITH*").apply(studies))).containsExactly("1.1", "1.2");
        assertThat(uids(query("00100010", "J??n*").apply(studies))).containsExactly("1.2");
        assertThat(uids(query("PatientName", "Smith").apply(studies))).as("no wildcard: the whole name").isEmpty();
        assertThat(uids(query("StudyDescription", "*head*").apply(studies))).containsExactly("1.1");
        assertThat(uids(query("StudyDescription", "MR Knee, left").apply(studies))).as("a comma is no list")
                .containsExactly("1.2");
        assertThat(uids(query("AccessionNumber", "A-2*").apply(studies))).containsExactly("1.2");
        assertThat(uids(query("StudyDescription", "*").apply(studies))).as("a study without one matches no *")
                .containsExactly("1.1", "1.2");
        assertThat(uids(query("PatientName", "a.*").apply(studies))).as("the rest is literal").isEmpty();
        assertThat(uids(query("PatientBirthDate", "19700131").apply(studies))).containsExactly("1.1");
        assertThat(uids(query("00100030", "19800101-").apply(studies))).containsExactly("1.2");
        assertInvalid(query(Map.of("PatientBirthDate", "1970-01-31"), DicomJson.Level.STUDY),
                "'PatientBirthDate' must be a date");
    }

    @Test
    void a_search_across_patients_is_narrowed_by_its_patient_id_study_uids_and_dates_before_the_rest_is_matched() {
        assertThat(query("PatientID", "MRN-1", "StudyInstanceUID", "1.2,1.3", "StudyDate", "20260101-",
                "ModalitiesInStudy", "CT").narrowing()).isEqualTo(Map.of("patientIdentifier", List.of("MRN-1"),
                "studyInstanceUid", List.of("1.2", "1.3"), "takenFrom", List.of("2026-01-01")));
        assertThat(query("00080020", "20260105").narrowing())
                .isEqualTo(Map.of("takenFrom", List.of("2026-01-05"), "takenTo", List.of("2026-01-05")));
        assertThat(query("StudyDate", "-20261231", "PatientID", "").narrowing())
                .isEqualTo(Map.of("takenTo", List.of("2026-12-31")));
        assertThat(query("ModalitiesInStudy", "CT").narrowing()).isEmpty();
        List<Map<String, Object>> studies = List.of(study("1.1", null, "CT"));
        assertThat(query("PatientID", "MRN-1").apply(studies)).as("a study whose files carry no PatientID").isEmpty();
    }

    @Test
    void instances_at_a_root_are_narrowed_by_their_single_uids_and_matched_by_the_rest_afterwards() {
        MultiValueMap<String, String> keys = new LinkedMultiValueMap<>();
        keys.add("StudyInstanceUID", "1.2");
        keys.add("0020000E", "1.2.3,1.2.4");
        keys.add("SOPInstanceUID", "1.2.3.4");
        keys.add("InstanceNumber", "7");
        DicomJson.Query query = DicomJson.query(keys, DicomJson.Level.ANY_INSTANCE);
        assertThat(query.instanceFilters()).containsExactly(Map.entry("studyInstanceUid", "1.2"),
                Map.entry("sopInstanceUid", "1.2.3.4"));
        Map<String, Object> instance = DicomJson.instance(json("""
                {"attributes":{"dicom":{"StudyInstanceUID":"1.2","SeriesInstanceUID":"1.2.4",
                 "SOPInstanceUID":"1.2.3.4","InstanceNumber":7}}}"""), BASE);
        assertThat(query.apply(List.of(instance))).hasSize(1);
        keys.set("0020000E", "1.2.5");
        assertThat(DicomJson.query(keys, DicomJson.Level.ANY_INSTANCE).apply(List.of(instance))).isEmpty();
        assertInvalid(query(Map.of("StudyInstanceUID", "1.2"), DicomJson.Level.INSTANCE), "'StudyInstanceUID'");
    }

    @Test
    void keys_the_level_does_not_match_and_bad_values_are_refused_naming_them() {
        assertInvalid(query(Map.of("PatientSex", "F"), DicomJson.Level.STUDY), "'PatientSex' cannot be matched");
        assertInvalid(query(Map.of("PatientID", "MRN-1"), DicomJson.Level.SERIES), "'PatientID' cannot be matched");
        assertInvalid(query(Map.of("SOPInstanceUID", "1.2"), DicomJson.Level.SERIES), "'SOPInstanceUID'");
        assertInvalid(query(Map.of("StudyDate", "2026-01-01"), DicomJson.Level.STUDY), "'StudyDate' must be a date");
        assertInvalid(query(Map.of("limit", "-1"), DicomJson.Level.STUDY), "'limit' must be a whole number");
        assertInvalid(query(Map.of("offset", "x"), DicomJson.Level.STUDY), "'offset' must be a whole number");
    }

    private static void assertInvalid(Runnable query, String detail) {
        assertThatThrownBy(query::run).isInstanceOfSatisfying(ApiProblem.class, e -> {
            assertThat(e.code()).isEqualTo("INVALID_PARAMETER");
            assertThat(e.getMessage()).contains(detail);
        });
    }

    private static Runnable query(Map<String, String> parameters, DicomJson.Level level) {
        MultiValueMap<String, String> map = new LinkedMultiValueMap<>();
        parameters.forEach(map::add);
        return () -> DicomJson.query(map, level);
    }

    private static DicomJson.Query query(String... parameters) {
        MultiValueMap<String, String> map = new LinkedMultiValueMap<>();
        for (int i = 0; i < parameters.length; i += 2) {
            map.add(parameters[i], parameters[i + 1]);
        }
        return DicomJson.query(map, DicomJson.Level.STUDY);
    }

    private static Map<String, Object> described(String uid, String name, String description, String accession) {
        Map<String, Object> study = new java.util.HashMap<>(Map.of("studyInstanceUid", uid, "patientName", name));
        if (uid.equals("1.1") || uid.equals("1.2")) {
            study.put("patientBirthDate", uid.equals("1.1") ? "1970-01-31" : "1985-06-15");
        }
        if (description != null) {
            study.put("studyDescription", description);
            study.put("accessionNumber", accession);
        }
        return DicomJson.study(JSON.valueToTree(study), BASE);
    }

    private static Map<String, Object> study(String uid, String date, String... modalities) {
        return DicomJson.study(JSON.valueToTree(date == null
                ? Map.of("studyInstanceUid", uid, "modalities", List.of(modalities))
                : Map.of("studyInstanceUid", uid, "studyDate", date, "modalities", List.of(modalities))), BASE);
    }

    private static List<String> uids(List<Map<String, Object>> studies) {
        return studies.stream().map(s -> tree(s).path(DicomJson.STUDY_INSTANCE_UID).path("Value").get(0)
                .asString()).toList();
    }

    /** As a client reads it. */
    private static JsonNode tree(Map<String, Object> object) {
        return JSON.readTree(JSON.writeValueAsString(object));
    }

    private static JsonNode json(String text) {
        return JSON.readTree(text);
    }
}
