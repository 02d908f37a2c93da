package org.patientimages.gateway.image;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DicomWebInstancesTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static JsonNode image(String id, String patient, String uid) {
        return JSON.readTree("{\"imageId\":\"" + id + "\",\"patientId\":\"" + patient + "\",\"attributes\":{\"dicom\":"
                + (uid == null ? "{}" : "{\"SOPInstanceUID\":\"" + uid + "\"}") + "}}");
    }

    @Test
    void an_instance_stored_twice_is_its_latest_image_and_one_of_another_patient_or_without_a_uid_stays() {
        List<JsonNode> images = List.of(image("a", "p1", "1.1"), image("b", "p1", "1.2"), image("c", "p1", "1.1"),
                image("d", "p2", "1.1"), image("e", "p1", null), image("f", "p1", null));

        assertThat(DicomWebController.instancesOf(images).stream().map(i -> i.path("imageId").asString()))
                .containsExactly("b", "c", "d", "e", "f");
    }
}
