package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;
import org.patientimages.localstack.testing.TestDicom;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DicomFileMetaTest {

    @Test
    void the_meta_information_names_the_sop_class_instance_and_transfer_syntax_without_their_padding() {
        byte[] file = TestDicom.ctSlice(64, 64).transferSyntax(TestDicom.EXPLICIT_LITTLE).toBytes();

        DicomFileMeta meta = DicomFileMeta.read(Arrays.copyOf(file, Intake.SNIFF_BYTES));

        assertThat(meta.sopClassUid()).isEqualTo("1.2.840.10008.5.1.4.1.1.2");
        // 30 characters, padded with a NUL to an even length in the file
        assertThat(meta.sopInstanceUid()).isEqualTo("1.2.826.0.1.3680043.2.1125.1.1");
        assertThat(meta.transferSyntaxUid()).isEqualTo(TestDicom.EXPLICIT_LITTLE);
    }

    @Test
    void the_reading_stops_at_the_data_set_and_a_short_file_is_read_whole() {
        byte[] file = meta(element(2, "UI", "1.2.3"), element(3, "UI", "1.2.3.4 "));
        byte[] withDataSet = Arrays.copyOf(file, file.length + 8);
        withDataSet[file.length] = 0x08; // (0008,0016) of the data set, whose length is not group 0002's business
        withDataSet[file.length + 2] = 0x16;

        DicomFileMeta meta = DicomFileMeta.read(withDataSet);

        assertThat(meta.sopClassUid()).isEqualTo("1.2.3");
        assertThat(meta.sopInstanceUid()).isEqualTo("1.2.3.4");
        assertThat(meta.transferSyntaxUid()).isNull();
    }

    @Test
    void meta_information_without_an_instance_uid_a_uid_of_letters_or_one_past_the_head_is_refused() {
        assertInvalid(meta(element(2, "UI", "1.2.3")), "names no SOP instance (0002,0003)");
        assertInvalid(meta(element(3, "UI", "1.2.3")), "names no SOP class (0002,0002)");
        assertInvalid(meta(element(2, "UI", "1.2.3"), element(3, "UI", "1.2.x")),
                "Media Storage SOP Instance UID is not a UID");
        assertInvalid(meta(element(2, "UI", "1.2." + "3".repeat(64)), element(3, "UI", "1.2.3")),
                "Media Storage SOP Class UID is not a UID");
        byte[] cut = meta(element(2, "UI", "1.2.3"), element(3, "UI", "1.2.3.4"));
        assertInvalid(Arrays.copyOf(cut, cut.length - 2), "does not end within its first");
        byte[] longLength = meta(element(1, "OB", "\0\1"));
        ByteBuffer.wrap(longLength, 140, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(Integer.MAX_VALUE);
        assertInvalid(longLength, "does not end within its first");
    }

    @Test
    void the_patient_id_is_read_in_each_transfer_syntax_past_sequences_of_undefined_length() {
        TestDicom referenced = TestDicom.dataSet().string(0x00081150, "UI", "1.2.3")
                .sequence(0x00089215, TestDicom.dataSet().string(0x00080100, "SH", "121311"));
        for (String syntax : List.of(TestDicom.EXPLICIT_LITTLE, TestDicom.IMPLICIT_LITTLE, TestDicom.EXPLICIT_BIG)) {
            byte[] file = TestDicom.ctSlice(8, 8).sequence(0x00081140, referenced, referenced)
                    .string(0x00100020, "LO", "  MRN-7 ").transferSyntax(syntax).toBytes();

            assertThat(DicomFileMeta.patientId(file, true)).as(syntax).isEqualTo("MRN-7");
            assertThat(DicomFileMeta.patientId(Arrays.copyOf(file, 1024), false)).as(syntax).isEqualTo("MRN-7");
        }
    }

    @Test
    void the_patients_birth_date_is_read_with_the_patient_id_when_the_file_has_one_within_the_window() {
        byte[] file = TestDicom.ctSlice(8, 8).string(0x00100030, "DA", "19600229").toBytes();
        assertThat(DicomFileMeta.patient(file, true)).isEqualTo(new DicomFileMeta.Patient("MRN-0042", "19600229"));
        assertThat(DicomFileMeta.patient(Arrays.copyOf(file, 1024), false).birthDate()).isEqualTo("19600229");
        assertThat(DicomFileMeta.patient(TestDicom.ctSlice(8, 8).toBytes(), true))
                .isEqualTo(new DicomFileMeta.Patient("MRN-0042", null));
        // a long element between the two: the Patient ID is still read, the birth date is not known
        byte[] apart = TestDicom.ctSlice(8, 8).bytes(0x00100021, "LO", new byte[4000])
                .string(0x00100030, "DA", "19600229").toBytes();
        int window = 2048;
        assertThat(DicomFileMeta.patient(Arrays.copyOf(apart, window), false))
                .isEqualTo(new DicomFileMeta.Patient("MRN-0042", null));
    }

    @Test
    void a_patient_id_in_utf_8_is_read_as_its_character_set_says() {
        byte[] file = TestDicom.ctSlice(8, 8).string(0x00080005, "CS", "ISO_IR 192")
                .bytes(0x00100020, "LO", "MRN-Å".getBytes(StandardCharsets.UTF_8)).toBytes();

        assertThat(DicomFileMeta.patientId(file, true)).isEqualTo("MRN-Å");
    }

    @Test
    void a_data_set_without_a_patient_id_has_an_empty_one_and_one_past_the_window_is_refused() {
        assertThat(DicomFileMeta.patientId(TestDicom.dataSet().string(0x00080060, "CS", "OT")
                .string(0x00200013, "IS", "1").toBytes(), true)).isEmpty();
        assertThat(DicomFileMeta.patientId(TestDicom.dataSet().string(0x00080060, "CS", "OT").toBytes(), true))
                .isEmpty();

        byte[] file = TestDicom.ctSlice(8, 8).bytes(0x00091010, "OB", new byte[4096]).toBytes();
        assertThat(DicomFileMeta.patientId(file, true)).isEqualTo("MRN-0042");
        assertPatientIdInvalid(Arrays.copyOf(file, 2048), false, "is not within its first 2048 bytes");
        assertPatientIdInvalid(Arrays.copyOf(file, 2048), true, "goes past the end of the file");
        assertPatientIdInvalid(TestDicom.ctSlice(8, 8).transferSyntax("1.2.840.10008.1.2.1.99").toBytes(), true,
                "deflated");
    }

    @Test
    void a_sequence_holding_something_else_than_items_or_nested_too_deep_is_refused() {
        byte[] notItems = TestDicom.ctSlice(8, 8).sequence(0x00081140, TestDicom.dataSet()).toBytes();
        int item = indexOf(notItems, new byte[]{(byte) 0xFE, (byte) 0xFF, 0x00, (byte) 0xE0});
        notItems[item + 3] = 0x11;
        assertPatientIdInvalid(notItems, true, "holds something other than items");

        TestDicom nested = TestDicom.dataSet().string(0x00080100, "SH", "x");
        for (int i = 0; i < 20; i++) {
            nested = TestDicom.dataSet().sequence(0x00081140, nested);
        }
        assertPatientIdInvalid(TestDicom.ctSlice(8, 8).sequence(0x00081140, nested).toBytes(), true, "nested deeper");
    }

    private static int indexOf(byte[] bytes, byte[] wanted) {
        for (int i = 132; i + wanted.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + wanted.length, wanted, 0, wanted.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    private static void assertPatientIdInvalid(byte[] head, boolean whole, String why) {
        assertThatThrownBy(() -> DicomFileMeta.patientId(head, whole)).isInstanceOfSatisfying(ApiProblem.class, e -> {
            assertThat(e.code()).isEqualTo("INVALID_DICOM");
            assertThat(e.getMessage()).contains(why);
        });
    }

    private static void assertInvalid(byte[] head, String why) {
        assertThatThrownBy(() -> DicomFileMeta.read(head)).isInstanceOfSatisfying(ApiProblem.class, e -> {
            assertThat(e.code()).isEqualTo("INVALID_DICOM");
            assertThat(e.getMessage()).contains(why);
        });
    }

    /** A preamble, {@code DICM} and these group 0002 elements, explicit VR little endian. */
    private static byte[] meta(byte[]... elements) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[128]);
        out.writeBytes("DICM".getBytes(StandardCharsets.US_ASCII));
        for (byte[] element : elements) {
            out.writeBytes(element);
        }
        return out.toByteArray();
    }

    private static byte[] element(int element, String vr, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.ISO_8859_1);
        boolean longLength = vr.equals("OB");
        ByteBuffer b = ByteBuffer.allocate((longLength ? 12 : 8) + bytes.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort((short) 2).putShort((short) element).put(vr.getBytes(StandardCharsets.US_ASCII));
        if (longLength) {
            b.putShort((short) 0).putInt(bytes.length);
        } else {
            b.putShort((short) bytes.length);
        }
        return b.put(bytes).array();
    }
}
