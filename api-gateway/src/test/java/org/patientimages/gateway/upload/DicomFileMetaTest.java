package org.patientimages.gateway.upload;

import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;
import org.patientimages.localstack.testing.TestDicom;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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
