package org.patientimages.worker.attributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.patientimages.localstack.testing.TestDicom;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DicomFileTest {

    @TempDir
    Path dir;

    private DicomFile read(TestDicom dicom) throws Exception {
        return read(dicom.toBytes());
    }

    private DicomFile read(byte[] bytes) throws Exception {
        return DicomFile.read(Files.write(dir.resolve("f.dcm"), bytes));
    }

    @Test
    void reads_every_uncompressed_transfer_syntax() throws Exception {
        for (String syntax : new String[] {TestDicom.IMPLICIT_LITTLE, TestDicom.EXPLICIT_LITTLE, TestDicom.EXPLICIT_BIG}) {
            DicomFile file = read(TestDicom.ctSlice(32, 16).transferSyntax(syntax));
            assertThat(file.attributes()).containsEntry("Modality", "CT").containsEntry("Rows", 32)
                    .containsEntry("Columns", 16).containsEntry("TransferSyntaxUID", syntax);
            assertThat(file.pixels().bigEndian()).isEqualTo(syntax.equals(TestDicom.EXPLICIT_BIG));
            assertThat(file.pixels().length()).isEqualTo(32 * 16 * 2);
            assertThat(file.pixels().signed()).isTrue();
            assertThat(file.pixels().windowWidth()).isEqualTo(400.0);
        }
    }

    @Test
    void series_and_instance_numbers_are_shown_as_numbers_and_not_at_all_when_they_are_none() throws Exception {
        DicomFile file = read(TestDicom.ctSlice(8, 8).string(0x00200011, "IS", "3").string(0x00200013, "IS", " +17")
                .toBytes());
        assertThat(file.attributes()).containsEntry("SeriesNumber", 3).containsEntry("InstanceNumber", 17);
        DicomFile notNumbers = read(TestDicom.ctSlice(8, 8).string(0x00200011, "IS", "three")
                .string(0x00200013, "IS", "12\\13").toBytes());
        assertThat(notNumbers.attributes()).doesNotContainKey("SeriesNumber").containsEntry("InstanceNumber", 12);
    }

    @Test
    void the_descriptions_and_accession_number_are_read_in_the_files_character_set_and_no_name() throws Exception {
        DicomFile latin = read(TestDicom.ctSlice(4, 4).string(0x00081030, "LO", "CT Schädel nativ")
                .string(0x0008103E, "LO", "Axial 5mm ").string(0x00080050, "SH", "ACC-77")
                .string(0x00100010, "PN", "DOE^JANE").toBytes());
        assertThat(latin.attributes()).containsEntry("StudyDescription", "CT Schädel nativ")
                .containsEntry("SeriesDescription", "Axial 5mm").containsEntry("AccessionNumber", "ACC-77")
                .doesNotContainValue("DOE^JANE");
        // in UTF-8, as Specific Character Set says: the bytes of "Schädel" in UTF-8, written here as Latin-1 chars
        String utf8 = new String("Kopf Schädel".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.ISO_8859_1);
        DicomFile unicode = read(TestDicom.ctSlice(4, 4).string(0x00080005, "CS", "ISO_IR 192")
                .string(0x00081030, "LO", utf8).toBytes());
        assertThat(unicode.attributes()).containsEntry("StudyDescription", "Kopf Schädel")
                .doesNotContainKey("SpecificCharacterSet");
    }

    @Test
    void skips_sequences_of_undefined_length_and_the_attributes_inside_them() throws Exception {
        for (String syntax : new String[] {TestDicom.IMPLICIT_LITTLE, TestDicom.EXPLICIT_LITTLE}) {
            TestDicom nested = TestDicom.dataSet().string(0x00080060, "CS", "MR")
                    .sequence(0x00400275, TestDicom.dataSet().string(0x00100020, "LO", "OTHER"));
            DicomFile file = read(TestDicom.ctSlice(4, 4).transferSyntax(syntax).sequence(0x00081140, nested, nested));
            assertThat(file.attributes()).containsEntry("Modality", "CT").containsEntry("PatientID", "MRN-0042");
        }
    }

    @Test
    void compressed_pixel_data_is_located_but_marked_encapsulated() throws Exception {
        DicomFile file = read(TestDicom.ctSlice(8, 8).transferSyntax(TestDicom.JPEG_BASELINE)
                .encapsulatedPixels(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xd9}));
        assertThat(file.attributes()).containsEntry("TransferSyntaxUID", TestDicom.JPEG_BASELINE)
                .containsEntry("Modality", "CT");
        assertThat(file.pixels().encapsulated()).isTrue();
    }

    @Test
    void a_length_larger_than_the_file_is_refused_without_allocating_it() throws Exception {
        // explicit VR: an OB private element claiming 2 GiB; implicit VR: Modality claiming 4 GiB - 16
        TestDicom explicit = TestDicom.ctSlice(4, 4).bytes(0x00091010, "OB", new byte[8])
                .lyingLength(0x00091010, 0x7FFFFFF0L);
        assertThatThrownBy(() -> read(explicit)).isInstanceOf(DicomFormatException.class)
                .hasMessageContaining("(0009,1010) declares 2147483632 bytes");
        TestDicom implicit = TestDicom.ctSlice(4, 4).transferSyntax(TestDicom.IMPLICIT_LITTLE)
                .lyingLength(0x00080060, 0xFFFFFFF0L);
        assertThatThrownBy(() -> read(implicit)).isInstanceOf(DicomFormatException.class)
                .hasMessageContaining("(0008,0060) declares");
    }

    @Test
    void a_length_that_reads_like_an_explicit_vr_is_just_a_length_in_implicit_vr() throws Exception {
        // bytes 'O' 'B' 0 0 as an implicit-VR length: 16975 bytes, far more than remain
        TestDicom tricky = TestDicom.ctSlice(4, 4).transferSyntax(TestDicom.IMPLICIT_LITTLE)
                .lyingLength(0x00080060, 0x0000424FL);
        assertThatThrownBy(() -> read(tricky)).isInstanceOf(DicomFormatException.class)
                .hasMessageContaining("declares 16975 bytes");
    }

    @Test
    void truncated_files_and_unterminated_sequences_end_in_a_format_error() throws Exception {
        byte[] whole = TestDicom.ctSlice(4, 4).sequence(0x00081140, TestDicom.dataSet().string(0x00080060, "CS", "MR"))
                .toBytes();
        for (int cut = 133; cut < whole.length - 40; cut += 7) {
            byte[] truncated = Arrays.copyOf(whole, cut);
            try {
                read(truncated);
            } catch (DicomFormatException expected) {
                // every prefix either parses (it ended between elements) or is refused as malformed
            }
        }
        byte[] unterminated = TestDicom.dataSet().sequence(0x00081140, TestDicom.dataSet().string(0x00080060, "CS", "MR"))
                .toBytes();
        assertThatThrownBy(() -> read(Arrays.copyOf(unterminated, unterminated.length - 8)))
                .isInstanceOf(DicomFormatException.class);
    }

    @Test
    void nesting_is_capped() throws Exception {
        TestDicom deep = TestDicom.dataSet().string(0x00080060, "CS", "MR");
        for (int i = 0; i < 40; i++) {
            deep = TestDicom.dataSet().sequence(0x00081140, deep);
        }
        TestDicom finalDeep = deep;
        assertThatThrownBy(() -> read(finalDeep)).isInstanceOf(DicomFormatException.class)
                .hasMessageContaining("nested deeper");
    }

    @Test
    void a_file_without_the_dicm_marker_is_refused() {
        byte[] bytes = new byte[200];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(128, 0x12345678);
        assertThatThrownBy(() -> read(bytes)).isInstanceOf(DicomFormatException.class).hasMessageContaining("DICM");
    }
}
