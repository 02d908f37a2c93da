package org.patientimages.metadata.image;

import org.patientimages.metadata.web.Timestamps;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

import java.sql.Array;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

@Repository
class ImageRepository {

    private static final String SELECT = """
            select i.*, image_taken_on(i.attributes) as taken_on,
                   coalesce((select array_agg(t.name order by t.name) from image_tags it
                             join tags t on t.id = it.tag_id where it.image_id = i.id), '{}') as tag_names
            from images i""";

    private static RowMapper<Row> rows(ImageSearch search) {
        return (rs, n) -> {
            Array tags = rs.getArray("tag_names");
            var uploadedAt = rs.getTimestamp("uploaded_at").toInstant();
            UUID id = rs.getObject("id", UUID.class);
            String name = rs.getString("name");
            return new Row(new Image(id.toString(), rs.getString("patient_id"), name,
                    rs.getString("description"), Arrays.asList((String[]) tags.getArray()), rs.getString("status"),
                    rs.getString("original_filename"), rs.getString("content_type"), rs.getLong("size_bytes"),
                    rs.getString("sha256"), Timestamps.format(uploadedAt), Timestamps.format(rs.getTimestamp("stored_at")),
                    rs.getString("taken_on"), rs.getString("attributes"), rs.getString("duplicate_of"),
                    new Image.Integrity(
                            rs.getString("integrity_status") == null ? "UNCHECKED" : rs.getString("integrity_status"),
                            Timestamps.format(rs.getTimestamp("integrity_checked_at")),
                            Timestamps.format(rs.getTimestamp("integrity_requested_at"))),
                    new Image.Derivation(Timestamps.format(rs.getTimestamp("derive_requested_at")),
                            Timestamps.format(rs.getTimestamp("derived_at"))),
                    rs.getTimestamp("deleted_at") == null ? null : new Image.Deletion(
                            Timestamps.format(rs.getTimestamp("deleted_at")),
                            Timestamps.format(rs.getTimestamp("restorable_until"))), rs.getString("bucket"),
                    rs.getString("object_key"), rs.getString("thumbnail_key")),
                    search == null ? null : search.cursorAfter(name, uploadedAt, id));
        };
    }

    record Row(Image image, String cursor) {
    }

    private final JdbcClient jdbc;

    ImageRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    Optional<Image> find(UUID imageId) {
        return jdbc.sql(SELECT + " where i.id = ? and i.status <> 'DELETED'").param(imageId).query(rows(null)).optional()
                .map(Row::image);
    }

    /** The patient of a live image. */
    Optional<UUID> patientOf(UUID imageId) {
        return jdbc.sql("select patient_id from images where id = ? and status <> 'DELETED'").param(imageId)
                .query(UUID.class).optional();
    }

    /** One page of a search, plus one row to tell whether another page follows. */
    List<Row> search(ImageSearch search) {
        ImageSearch.Sql sql = search.toSql();
        return jdbc.sql(SELECT + sql.where() + sql.orderBy()).params(sql.params()).query(rows(search)).list();
    }

    /** Which of these ids have an image row, whatever its status. */
    List<UUID> existing(List<UUID> ids) {
        return ids.isEmpty() ? List.of() : jdbc.sql("select id from images where id = any(?::uuid[])")
                .param(ids.stream().map(UUID::toString).toArray(String[]::new)).query(UUID.class).list();
    }
}
