package org.patientimages.metadata.image;

import org.junit.jupiter.api.Test;
import org.patientimages.metadata.web.ApiException;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageSearchTest {

    @Test
    void defaults_to_newest_first_all_tags_and_fifty_items() {
        ImageSearch s = ImageSearch.parse(Map.of(), null);
        assertThat(s.byName()).isFalse();
        assertThat(s.ascending()).isFalse();
        assertThat(s.matchAll()).isTrue();
        assertThat(s.limit()).isEqualTo(50);
        assertThat(s.toSql().orderBy()).isEqualTo(" order by i.uploaded_at desc, i.id desc limit ?");
    }

    @Test
    void normalises_tags_and_requires_every_one_with_match_all() {
        ImageSearch s = ImageSearch.parse(Map.of("tag", List.of(" Knee", "MRI", "knee")), null);
        assertThat(s.tags()).containsExactly("knee", "mri");
        ImageSearch.Sql sql = s.toSql();
        assertThat(sql.where()).contains("having count(distinct t.id) = ?");
        assertThat(sql.params()).contains(2);
        assertThat(ImageSearch.parse(Map.of("tag", List.of("a", "b"), "match", List.of("any")), null).toSql().where())
                .contains("exists (select 1 from image_tags");
        assertThat(ImageSearch.parse(Map.of("tag", List.of("a")), null).toSql().where())
                .contains("exists (select 1 from image_tags").doesNotContain("having");
    }

    @Test
    void filters_dicom_images_by_modality_in_upper_case_and_by_study_series_and_instance() {
        ImageSearch.Sql sql = ImageSearch.parse(Map.of("modality", List.of("ct"), "studyInstanceUid", List.of("1.2.3"),
                "seriesInstanceUid", List.of("1.2.3.4"), "sopInstanceUid", List.of("1.2.3.4.5")), null).toSql();
        assertThat(sql.where()).contains("i.attributes -> 'dicom' ->> 'Modality' = ?")
                .contains("i.attributes -> 'dicom' ->> 'StudyInstanceUID' = ?")
                .contains("i.attributes -> 'dicom' ->> 'SeriesInstanceUID' = ?")
                .contains("i.attributes -> 'dicom' ->> 'SOPInstanceUID' = ?");
        assertThat(sql.params()).containsSequence("CT", "1.2.3", "1.2.3.4", "1.2.3.4.5");
    }

    @Test
    void filters_by_the_date_taken_both_ends_included_and_refuses_what_is_no_date_or_a_reversed_range() {
        ImageSearch.Sql sql = ImageSearch.parse(Map.of("takenFrom", List.of("2024-01-01"),
                "takenTo", List.of("2024-12-31")), null).toSql();
        assertThat(sql.where()).contains(" and image_taken_on(i.attributes) >= ?")
                .contains(" and image_taken_on(i.attributes) <= ?");
        assertThat(sql.params())
                .containsSequence(java.sql.Date.valueOf("2024-01-01"), java.sql.Date.valueOf("2024-12-31"));
        assertThat(ImageSearch.parse(Map.of(), null).toSql().where()).doesNotContain("image_taken_on");
        expect(Map.of("takenFrom", List.of("2024-13-01")), "INVALID_PARAMETER", "takenFrom");
        expect(Map.of("takenTo", List.of("20241231")), "INVALID_PARAMETER", "takenTo");
        expect(Map.of("takenFrom", List.of("2024-02-01"), "takenTo", List.of("2024-01-31")), "INVALID_PARAMETER",
                "takenFrom must not be after takenTo");
    }

    @Test
    void filters_by_the_last_integrity_check_with_a_literal_of_the_closed_set_and_refuses_others() {
        assertThat(ImageSearch.parse(Map.of("integrity", List.of("CORRUPT")), null).toSql().where())
                .endsWith(" and i.integrity_status = 'CORRUPT'");
        assertThat(ImageSearch.parse(Map.of("integrity", List.of("UNCHECKED")), null).toSql().where())
                .endsWith(" and i.integrity_status is null");
        assertThat(ImageSearch.parse(Map.of(), null).toSql().where()).doesNotContain("integrity");
        expect(Map.of("integrity", List.of("CORRUPT' or '1'='1")), "INVALID_PARAMETER", "integrity");
    }

    @Test
    void status_deleted_lists_the_deleted_images_that_can_still_be_restored_instead_of_live_ones() {
        ImageSearch deleted = ImageSearch.parse(Map.of("status", List.of("DELETED"), "tag", List.of("knee")), null);
        assertThat(deleted.deleted()).isTrue();
        assertThat(deleted.toSql().where()).startsWith(" where i.status = 'DELETED' and i.restorable_until > now()")
                .doesNotContain("i.status <> 'DELETED'").doesNotContain("i.status = ?").contains("image_tags");
        ImageSearch failed = ImageSearch.parse(Map.of("status", List.of("FAILED")), null);
        assertThat(failed.deleted()).isFalse();
        assertThat(failed.toSql().where()).startsWith(" where i.status <> 'DELETED'").contains(" and i.status = ?");
        assertThat(failed.toSql().params()).contains("FAILED");
    }

    @Test
    void escapes_like_wildcards_in_the_text_search() {
        ImageSearch.Sql sql = ImageSearch.parse(Map.of("q", List.of("50%_off")), null).toSql();
        assertThat(sql.params()).contains("%50\\%\\_off%");
    }

    @Test
    void refuses_unknown_parameters_and_bad_values_naming_them() {
        expect(Map.of("colour", List.of("red")), "INVALID_PARAMETER", "colour");
        expect(Map.of("match", List.of("some")), "INVALID_PARAMETER", "match");
        expect(Map.of("sort", List.of("size")), "INVALID_PARAMETER", "sort");
        expect(Map.of("order", List.of("up")), "INVALID_PARAMETER", "order");
        expect(Map.of("status", List.of("GONE")), "INVALID_PARAMETER", "status");
        expect(Map.of("from", List.of("yesterday")), "INVALID_PARAMETER", "from");
        expect(Map.of("from", List.of("2026-02-01T00:00:00Z"), "to", List.of("2026-01-01T00:00:00Z")),
                "INVALID_PARAMETER", "from");
        expect(Map.of("limit", List.of("many")), "INVALID_LIMIT", "limit");
        expect(Map.of("limit", List.of("501")), "INVALID_LIMIT", "limit");
        expect(Map.of("q", List.of("a", "b")), "INVALID_PARAMETER", "q");
        expect(Map.of("patientId", List.of("42")), "INVALID_PARAMETER", "patientId");
    }

    @Test
    void a_cursor_continues_only_the_sort_order_it_came_from() {
        ImageSearch byTime = ImageSearch.parse(Map.of(), null);
        String cursor = byTime.cursorAfter("x", Instant.parse("2026-11-27T10:15:30.123456Z"), UUID.randomUUID());
        assertThat(ImageSearch.parse(Map.of("cursor", List.of(cursor)), null).toSql().where())
                .contains("(i.uploaded_at, i.id) < (?, ?)");
        assertThatThrownBy(() -> ImageSearch.parse(Map.of("cursor", List.of(cursor), "sort", List.of("name")), null)
                .toSql()).isInstanceOf(ApiException.class).hasMessageContaining("sort order");
        assertThatThrownBy(() -> ImageSearch.parse(Map.of("cursor", List.of("%%%")), null).toSql())
                .isInstanceOf(ApiException.class);
    }

    private static void expect(Map<String, List<String>> params, String code, String named) {
        assertThatThrownBy(() -> ImageSearch.parse(params, null))
                .isInstanceOf(ApiException.class)
                .hasMessageContaining(named)
                .satisfies(e -> assertThat(((ApiException) e).code()).isEqualTo(code));
    }
}
