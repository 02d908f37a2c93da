package org.patientimages.metadata.image;

import org.patientimages.metadata.web.Paging;
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
            select i.*, coalesce((select array_agg(t.name order by t.name) from image_tags it
                                  join tags t on t.id = it.tag_id where it.image_id = i.id), '{}') as tag_names
            from images i""";

    private static final RowMapper<Row> ROW = (rs, n) -> {
        Array tags = rs.getArray("tag_names");
        var uploadedAt = rs.getTimestamp("uploaded_at").toInstant();
        UUID id = rs.getObject("id", UUID.class);
        return new Row(new Image(id.toString(), rs.getString("patient_id"), rs.getString("name"),
                rs.getString("description"), Arrays.asList((String[]) tags.getArray()), rs.getString("status"),
                rs.getString("original_filename"), rs.getString("content_type"), rs.getLong("size_bytes"),
                rs.getString("sha256"), Timestamps.format(uploadedAt), Timestamps.format(rs.getTimestamp("stored_at")),
                rs.getString("bucket"), rs.getString("object_key")),
                Paging.cursor(uploadedAt, id));
    };

    record Row(Image image, String cursor) {
    }

    private final JdbcClient jdbc;

    ImageRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    Optional<Image> find(UUID imageId) {
        return jdbc.sql(SELECT + " where i.id = ? and i.status <> 'DELETED'").param(imageId).query(ROW).optional()
                .map(Row::image);
    }

    /** A patient's images, newest first. */
    List<Row> ofPatient(UUID patientId, Paging.Key after, int limit) {
        if (after == null) {
            return jdbc.sql(SELECT + " where i.patient_id = ? and i.status <> 'DELETED'"
                            + " order by i.uploaded_at desc, i.id desc limit ?")
                    .params(patientId, limit + 1).query(ROW).list();
        }
        return jdbc.sql(SELECT + " where i.patient_id = ? and i.status <> 'DELETED' and (i.uploaded_at, i.id) < (?, ?)"
                        + " order by i.uploaded_at desc, i.id desc limit ?")
                .params(patientId, Timestamps.sql(after.at()), after.id(), limit + 1).query(ROW).list();
    }
}
