package org.patientimages.gateway.image;

import org.junit.jupiter.api.Test;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The study list at the service's root, read a page of the metadata-service's at a time. */
class DicomWebLatestStudiesTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Studies 1 … n, CT when odd and MR when even, in pages of {@code size}; the pages asked for are noted. */
    private static Function<String, JsonNode> pages(int n, int size, List<String> asked) {
        return cursor -> {
            asked.add(String.valueOf(cursor));
            int from = cursor == null ? 0 : Integer.parseInt(cursor);
            List<Map<String, Object>> items = new ArrayList<>();
            for (int i = from; i < Math.min(n, from + size); i++) {
                items.add(Map.of("studyInstanceUid", "1." + (i + 1), "modalities", List.of(i % 2 == 0 ? "CT" : "MR")));
            }
            Map<String, Object> page = new java.util.HashMap<>(Map.of("items", items));
            page.put("nextCursor", from + size < n ? "" + (from + size) : null);
            return JSON.valueToTree(page);
        };
    }

    private static DicomJson.Query query(String... parameters) {
        MultiValueMap<String, String> map = new LinkedMultiValueMap<>();
        for (int i = 0; i < parameters.length; i += 2) {
            map.add(parameters[i], parameters[i + 1]);
        }
        return DicomJson.query(map, DicomJson.Level.STUDY);
    }

    private static List<String> uids(List<Map<String, Object>> studies) {
        return studies.stream().map(s -> String.valueOf(((Map<?, ?>) s.get(DicomJson.STUDY_INSTANCE_UID))
                .get("Value"))).toList();
    }

    @Test
    void pages_are_read_until_the_offset_and_limit_are_filled_by_matching_studies() {
        List<String> asked = new ArrayList<>();
        DicomJson.Query search = query("ModalitiesInStudy", "MR", "offset", "2", "limit", "10");
        var latest = DicomWebController.latest(pages(100, 10, asked), search, "http://x", 10_000);

        assertThat(asked).as("the 12 MR studies wanted are in the first 3 pages").containsExactly("null", "10", "20");
        assertThat(uids(search.apply(latest.matched()))).hasSize(10).startsWith("[1.6]", "[1.8]").endsWith("[1.24]");
        assertThat(latest.more()).isFalse();
    }

    @Test
    void when_more_studies_are_left_unread_than_were_looked_at_the_answer_says_so() {
        var bounded = DicomWebController.latest(pages(100, 10, new ArrayList<>()), query(), "http://x", 30);
        assertThat(bounded.matched()).hasSize(30);
        assertThat(bounded.more()).isTrue();

        var all = DicomWebController.latest(pages(25, 10, new ArrayList<>()), query(), "http://x", 30);
        assertThat(all.matched()).hasSize(25);
        assertThat(all.more()).as("the pages ended").isFalse();

        var filled = DicomWebController.latest(pages(100, 10, new ArrayList<>()), query("limit", "5"), "http://x", 30);
        assertThat(filled.more()).as("the client's limit, not ours, ended the reading").isFalse();
    }
}
