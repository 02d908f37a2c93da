package org.patientimages.gateway.image;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.ZipInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageArchiveTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Instant UPLOADED = Instant.parse("2026-11-27T10:15:30Z");

    @Test
    void lays_dicom_out_by_study_and_series_other_files_by_id_and_name_and_lists_every_sha256() throws Exception {
        byte[] ct = "DICM pixels".getBytes(StandardCharsets.UTF_8);
        byte[] photo = new byte[200_000];
        new java.util.Random(7).nextBytes(photo);
        Map<String, byte[]> store = Map.of("images/a/original", ct, "images/b/original", photo);
        List<ImageArchive.Item> items = List.of(item("a", ct, "1.2.3/4.5/a.dcm"), item("b", photo, "b-knee.jpg"));
        AtomicBoolean headers = new AtomicBoolean();
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        ImageArchive.write(items, item -> new ByteArrayInputStream(store.get(item.objectKey())), out, 0,
                () -> headers.set(true));

        assertThat(headers).isTrue();
        Map<String, byte[]> entries = unzip(out.toByteArray());
        assertThat(entries.keySet()).containsExactly("1.2.3/4.5/a.dcm", "b-knee.jpg", "SHA256SUMS");
        assertThat(entries.get("1.2.3/4.5/a.dcm")).isEqualTo(ct);
        assertThat(entries.get("b-knee.jpg")).isEqualTo(photo);
        assertThat(new String(entries.get("SHA256SUMS"), StandardCharsets.UTF_8))
                .isEqualTo(sha256(ct) + "  1.2.3/4.5/a.dcm\n" + sha256(photo) + "  b-knee.jpg\n");
    }

    @Test
    void bytes_that_differ_from_the_recorded_sha256_end_the_archive_unfinished() throws Exception {
        byte[] good = "good".getBytes(StandardCharsets.UTF_8);
        byte[] recorded = "what was uploaded".getBytes(StandardCharsets.UTF_8);
        byte[] changed = "what was uploadeD".getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> store = Map.of("images/a/original", good, "images/b/original", changed);
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        assertThatThrownBy(() -> ImageArchive.write(List.of(item("a", good, "a-x.bin"), item("b", recorded, "b-y.bin")),
                item -> new ByteArrayInputStream(store.get(item.objectKey())), out, 0, () -> { }))
                .isInstanceOf(ImageArchive.Damaged.class).hasMessageContaining("image b");
        // the first entry is whole; the damaged one never ends, and no list of sums follows
        assertThatThrownBy(() -> unzip(out.toByteArray())).isInstanceOf(IOException.class);
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            assertThat(zip.getNextEntry().getName()).isEqualTo("a-x.bin");
            assertThat(zip.readAllBytes()).isEqualTo(good);
        }
    }

    @Test
    void a_store_that_cannot_be_read_at_the_first_object_has_written_nothing() {
        AtomicBoolean headers = new AtomicBoolean();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThatThrownBy(() -> ImageArchive.write(List.of(item("a", new byte[1], "a")), item -> {
            throw new IOException("store down");
        }, out, 0, () -> headers.set(true))).hasMessage("store down");
        assertThat(headers).isFalse();
        assertThat(out.size()).isZero();
    }

    @Test
    void an_empty_selection_is_an_archive_of_its_empty_list_of_sums() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageArchive.write(List.of(), item -> null, out, 0, () -> { });
        assertThat(unzip(out.toByteArray())).containsOnlyKeys("SHA256SUMS");
    }

    @Test
    void as_multipart_related_each_object_is_a_part_naming_its_transfer_syntax_and_damage_leaves_the_body_unclosed()
            throws Exception {
        byte[] ct = "DICM slice one".getBytes(StandardCharsets.UTF_8);
        byte[] other = "DICM slice two".getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> store = Map.of("images/a/original", ct, "images/b/original", other);
        List<ImageArchive.Item> items = List.of(item("a", ct, "a.dcm", "1.2.840.10008.1.2.4.70"),
                item("b", other, "b.dcm", null));
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        ImageArchive.write(items, item -> new ByteArrayInputStream(store.get(item.objectKey())),
                new ImageArchive.RelatedParts(out, "b0und"), () -> { });

        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("""
                --b0und\r
                Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.4.70\r
                \r
                DICM slice one\r
                --b0und\r
                Content-Type: application/dicom\r
                \r
                DICM slice two\r
                --b0und--\r
                """);

        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        assertThatThrownBy(() -> ImageArchive.write(List.of(items.get(0), item("b", ct, "b.dcm", null)),
                item -> new ByteArrayInputStream(store.get(item.objectKey())),
                new ImageArchive.RelatedParts(cut, "b0und"), () -> { })).isInstanceOf(ImageArchive.Damaged.class);
        assertThat(cut.toString(StandardCharsets.UTF_8)).endsWith("DICM slice two").doesNotContain("--b0und--");
    }

    @Test
    void a_transfer_syntax_that_is_not_a_uid_names_no_part_type() {
        Map<String, Object> image = new LinkedHashMap<>();
        image.put("imageId", "i1");
        image.put("uploadedAt", UPLOADED.toString());
        image.put("attributes", Map.of("dicom", Map.of("TransferSyntaxUID", "1.2\r\nX-Injected: yes")));
        assertThat(ImageArchive.Item.of(JSON.valueToTree(image)).transferSyntax()).isNull();
        image.put("attributes", Map.of("dicom", Map.of("TransferSyntaxUID", "1.2.840.10008.1.2.1")));
        assertThat(ImageArchive.Item.of(JSON.valueToTree(image)).transferSyntax()).isEqualTo("1.2.840.10008.1.2.1");
    }

    @Test
    void entry_names_are_never_paths_out_of_the_archive() {
        assertThat(ImageArchive.entryName(image("i1", "../../etc/passwd", null, null))).isEqualTo("i1-passwd");
        assertThat(ImageArchive.entryName(image("i2", null, null, null))).isEqualTo("i2");
        assertThat(ImageArchive.entryName(image("i3", "..", null, null))).isEqualTo("i3");
        assertThat(ImageArchive.entryName(image("i4", "ct.dcm", "1.2.840.1", "1.2.840.1.2")))
                .isEqualTo("1.2.840.1/1.2.840.1.2/i4.dcm");
        // a DICOM header is the uploader's: UIDs that are not digits and dots are no path
        assertThat(ImageArchive.entryName(image("i5", "ct.dcm", "../../..", "..\\evil"))).isEqualTo("unknown/unknown/i5.dcm");
        assertThat(ImageArchive.entryName(image("i6", "ct.dcm", "..", "."))).isEqualTo("unknown/unknown/i6.dcm");
    }

    private static JsonNode image(String id, String filename, String study, String series) {
        Map<String, Object> image = new LinkedHashMap<>();
        image.put("imageId", id);
        image.put("originalFilename", filename);
        if (study != null) {
            image.put("attributes", Map.of("dicom", Map.of("StudyInstanceUID", study, "SeriesInstanceUID", series)));
        }
        return JSON.valueToTree(image);
    }

    private static ImageArchive.Item item(String id, byte[] bytes, String entryName) throws Exception {
        return item(id, bytes, entryName, null);
    }

    private static ImageArchive.Item item(String id, byte[] bytes, String entryName, String transferSyntax)
            throws Exception {
        return new ImageArchive.Item(id, "bucket", "images/" + id + "/original", bytes.length, sha256(bytes),
                entryName, UPLOADED, transferSyntax);
    }

    private static Map<String, byte[]> unzip(byte[] archive) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(archive))) {
            for (var entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                entries.put(entry.getName(), zip.readAllBytes());
            }
        }
        if (!entries.containsKey("SHA256SUMS")) {
            throw new IOException("no SHA256SUMS: the archive did not end");
        }
        return entries;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
