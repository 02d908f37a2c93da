package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;
import tools.jackson.databind.json.JsonMapper;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoredInstancesTest {

    @Test
    void the_answer_names_each_instance_in_order_as_the_dicom_json_model_writes_it() {
        var answer = StoredInstances.answer(List.of(new DicomFileMeta("1.2.840.10008.5.1.4.1.1.2", "1.2.3.1", null),
                new DicomFileMeta("1.2.840.10008.5.1.4.1.1.7", "1.2.3.2", "1.2.840.10008.1.2.4.50")));

        assertThat(answer.getStatusCode().value()).isEqualTo(200);
        assertThat(answer.getHeaders().getContentType()).hasToString("application/dicom+json");
        assertThat(JsonMapper.builder().build().writeValueAsString(answer.getBody())).isEqualTo("""
                {"00081199":{"vr":"SQ","Value":[\
                {"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.2"]},\
                "00081155":{"vr":"UI","Value":["1.2.3.1"]}},\
                {"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.7"]},\
                "00081155":{"vr":"UI","Value":["1.2.3.2"]}}]}}""");
        assertThat(StoredInstances.count(answer.getBody())).isEqualTo(2);
    }

    @Test
    void a_files_birth_date_contradicts_the_patients_only_when_both_are_dates_and_differ() {
        assertThat(StoredInstances.contradicts("19600301", "1960-02-29")).isTrue();
        assertThat(StoredInstances.contradicts("19600229", "1960-02-29")).isFalse();
        assertThat(StoredInstances.contradicts("1960.02.29 ", "1960-02-29")).as("an older form").isFalse();
        assertThat(StoredInstances.contradicts("1960.03.01", "1960-02-29")).isTrue();
        assertThat(StoredInstances.contradicts(null, "1960-02-29")).isFalse();
        assertThat(StoredInstances.contradicts("19600301", null)).isFalse();
        assertThat(StoredInstances.contradicts("", "1960-02-29")).as("present but empty").isFalse();
        assertThat(StoredInstances.contradicts("unknown", "1960-02-29")).as("no date").isFalse();
        ApiProblem refusal = StoredInstances.mismatchedPatient("Part 2");
        assertThat(refusal.code()).isEqualTo("PATIENT_MISMATCH");
        assertThat(refusal.getMessage()).startsWith("Part 2: its Patient's Birth Date").doesNotContain("1960");
    }

    @Test
    void a_body_of_dicom_parts_is_taken_and_anything_else_refused_with_415() {
        for (String type : List.of("multipart/related; type=\"application/dicom\"; boundary=b",
                "Multipart/Related; type=application/dicom; boundary=b", "multipart/related; boundary=b")) {
            // the second as some clients send it: names in any case, the type's value not quoted
            assertThatCode(() -> StoredInstances.requireDicomParts(type)).as(type).doesNotThrowAnyException();
        }
        for (String type : Arrays.asList(null, "multipart/form-data; boundary=b", "application/dicom",
                "multipart/related; type=\"application/dicom+json\"; boundary=b", "not a type")) {
            assertUnsupported(() -> StoredInstances.requireDicomParts(type));
        }
        for (String part : Arrays.asList(null, "application/dicom",
                "application/DICOM; transfer-syntax=1.2.840.10008.1.2.1")) {
            assertThatCode(() -> StoredInstances.requireDicom("Part 1", part)).as(part).doesNotThrowAnyException();
        }
        for (String part : List.of("image/png", "application/dicom+xml", "application/octet-stream", ";;")) {
            assertUnsupported(() -> StoredInstances.requireDicom("Part 1", part));
        }
    }

    private static void assertUnsupported(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(ApiProblem.class, e -> {
            assertThat(e.status().value()).isEqualTo(415);
            assertThat(e.code()).isEqualTo("UNSUPPORTED_MEDIA_TYPE");
        });
    }
}
