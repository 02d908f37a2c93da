package org.patientimages.worker.attributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.localstack.testing.TestDicom;
import org.patientimages.localstack.testing.TestImages;
import org.patientimages.localstack.testing.TestPdf;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AttributesTest {

    private static final Readings READINGS = new Readings(100_000_000L, PdfFileTest.PDFS);

    @TempDir
    Path dir;

    /** The attributes read as an upload's are, or why not. */
    private static Map<String, Object> attributes(Path file, String contentType) throws UnreadableFileException {
        Step<Map<String, Object>> attributes = READINGS.read(file, contentType).attributes();
        if (attributes.skipped() != null) {
            throw attributes.skipped();
        }
        return attributes.value();
    }

    @Test
    void reads_the_dimensions_of_png_and_jpeg() throws Exception {
        assertThat(attributes(Files.write(dir.resolve("a.png"), TestImages.aPngImage(40, 30)), "image/png"))
                .containsEntry("width", 40).containsEntry("height", 30);
        assertThat(attributes(Files.write(dir.resolve("a.jpg"), TestImages.aJpegImage(64, 16)), "image/jpeg"))
                .containsEntry("width", 64).containsEntry("height", 16);
    }

    @Test
    void a_png_declaring_100000_by_100000_pixels_costs_nothing_to_read() throws Exception {
        byte[] png = TestImages.aPngDeclaring(100_000, 100_000);
        assertThat(attributes(Files.write(dir.resolve("bomb.png"), png), "image/png"))
                .containsEntry("width", 100_000).containsEntry("height", 100_000);
    }

    @Test
    void truncated_images_fail_the_step_and_foreign_bytes_have_no_attributes() throws Exception {
        byte[] png = TestImages.aPngImage(10, 10);
        assertThatThrownBy(() -> attributes(Files.write(dir.resolve("cut.png"), Arrays.copyOf(png, 20)), "image/png"))
                .isInstanceOf(UnreadableFileException.class);
        assertThat(attributes(Files.write(dir.resolve("blob"), new byte[] {1, 2, 3}), "application/octet-stream"))
                .isEmpty();
    }

    @Test
    void a_heic_photo_gives_its_size_but_no_thumbnail() throws Exception {
        // 96 × 64, made by libheif's heif-enc 1.15.1 from a PNG; no EXIF, so its size is its own
        Path photo = dir.resolve("photo.heic");
        try (var in = getClass().getResourceAsStream("/images/halves.heic")) {
            Files.copy(in, photo);
        }
        Readings.Reading reading = READINGS.read(photo, "image/heic");
        assertThat(reading.attributes().value()).isEqualTo(Map.of("width", 96, "height", 64));
        assertThat(reading.thumbnail().skipped()).hasMessageContaining("no thumbnail is rendered for HEIF photos");
        assertThat(READINGS.read(Files.write(dir.resolve("cut.heic"), new byte[] {0, 0, 0, 0x1c, 'f', 't', 'y', 'p'}),
                "image/heic").attributes().skipped()).hasMessage("the HEIF file could not be read");
    }

    @Test
    void a_phone_s_heic_photo_gives_the_size_its_exif_says_its_capture_time_and_device() throws Exception {
        // 96 × 64 pixels whose EXIF says 4032 × 3024 (as a phone's photo, a grid of tiles, says its whole size):
        // made by exiftool and heif-enc 1.15.1, the EXIF carried over from a JPEG
        Path photo = dir.resolve("phone.heic");
        try (var in = getClass().getResourceAsStream("/images/phone-exif.heic")) {
            Files.copy(in, photo);
        }
        assertThat(attributes(photo, "image/heic")).isEqualTo(Map.of("width", 4032, "height", 3024,
                "captureTime", "2026-11-27T10:15:30Z", "device", "Apple iPhone 15"));
    }

    @Test
    void a_dicom_file_gives_its_identifying_attributes_but_not_the_patients_name() throws Exception {
        Path file = Files.write(dir.resolve("ct.dcm"), TestDicom.ctSlice(64, 48).toBytes());
        Map<String, Object> attributes = attributes(file, "application/dicom");
        assertThat(attributes).containsEntry("width", 48).containsEntry("height", 64);
        assertThat(attributes.get("dicom")).isEqualTo(Map.ofEntries(
                Map.entry("TransferSyntaxUID", TestDicom.EXPLICIT_LITTLE),
                Map.entry("SOPClassUID", "1.2.840.10008.5.1.4.1.1.2"),
                Map.entry("SOPInstanceUID", "1.2.826.0.1.3680043.2.1125.1.1"),
                Map.entry("StudyDate", "20261127"),
                Map.entry("Modality", "CT"),
                Map.entry("PatientID", "MRN-0042"),
                Map.entry("BodyPartExamined", "CHEST"),
                Map.entry("StudyInstanceUID", "1.2.826.0.1.3680043.2.1125.2"),
                Map.entry("SeriesInstanceUID", "1.2.826.0.1.3680043.2.1125.3"),
                Map.entry("Rows", 64),
                Map.entry("Columns", 48)));
        assertThat(attributes.toString()).doesNotContain("DOE");
    }

    @Test
    void a_pdf_gives_its_page_count_and_version_but_not_its_title() throws Exception {
        Path file = Files.write(dir.resolve("report.pdf"), TestPdf.report().pages(3).title("Report of Jane DOE").toBytes());
        assertThat(attributes(file, "application/pdf")).isEqualTo(Map.of("pdf", Map.of("pages", 3, "version", "1.7")));
        Path locked = Files.write(dir.resolve("locked.pdf"), TestPdf.report().password("s3cret").toBytes());
        assertThat(attributes(locked, "application/pdf")).isEqualTo(Map.of("pdf", Map.of("encrypted", true)));
        assertThatThrownBy(() -> attributes(Files.write(dir.resolve("cut.pdf"), "%PDF-1.7\n%garbage".getBytes()),
                "application/pdf")).isInstanceOf(UnreadableFileException.class).hasMessage("the PDF could not be read");
    }

    @Test
    void a_pdf_larger_than_512_mib_is_not_read() throws Exception {
        Path huge = dir.resolve("huge.pdf");
        try (RandomAccessFile sparse = new RandomAccessFile(huge.toFile(), "rw")) {
            sparse.write("%PDF-1.7\n".getBytes());
            sparse.setLength(PdfFile.MAX_BYTES + 1);
        }
        assertThatThrownBy(() -> attributes(huge, "application/pdf"))
                .isInstanceOf(UnreadableFileException.class).hasMessage("a PDF larger than 512 MiB is not read");
    }
}
