package org.patientimages.gateway.dicom;

import org.junit.jupiter.api.Test;
import org.patientimages.localstack.testing.TestDicom;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DicomMetadataTest {

    private static final String[] SYNTAXES = {TestDicom.EXPLICIT_LITTLE, TestDicom.IMPLICIT_LITTLE,
            TestDicom.EXPLICIT_BIG};

    private static TestDicom aFile() {
        return TestDicom.ctSlice(4, 4)
                .string(0x00080005, "CS", "ISO_IR 192")
                .sequence(0x00081140, TestDicom.dataSet().string(0x00081150, "UI", "1.2.3")
                        .string(0x00081155, "UI", "1.2.3.4"), TestDicom.dataSet().string(0x00081150, "UI", "1.2.5"))
                .bytes(0x00091010, "OB", new byte[]{1, 2, 3, 4})
                .bytes(0x00100010, "PN", "Öz^Ayşe=Ideo".getBytes(StandardCharsets.UTF_8))
                .string(0x00200032, "DS", "-125.5\\+3\\1e2")
                .string(0x00200013, "IS", " 7 ")
                .bytes(0x00181310, "US", new byte[]{0, 0, 4, 0, 4, 0, 0, 0})
                .string(0x00080008, "CS", "ORIGINAL\\\\AXIAL");
    }

    @Test
    void the_data_set_is_given_in_the_dicom_json_model_in_each_transfer_syntax() {
        for (String syntax : SYNTAXES) {
            byte[] file = aFile().transferSyntax(syntax).toBytes();

            DicomMetadata.DataSet dataSet = DicomMetadata.read(file, file.length);

            Map<String, Object> e = dataSet.elements();
            assertThat(e.get("00080016")).as(syntax).isEqualTo(Map.of("vr", "UI", "Value",
                    List.of("1.2.840.10008.5.1.4.1.1.2")));
            assertThat(e.get("00100010")).as(syntax).isEqualTo(Map.of("vr", "PN", "Value",
                    List.of(Map.of("Alphabetic", "Öz^Ayşe", "Ideographic", "Ideo"))));
            assertThat(e.get("00200032")).as(syntax).isEqualTo(Map.of("vr", "DS", "Value",
                    List.of(new BigDecimal("-125.5"), new BigDecimal("3"), new BigDecimal("1e2"))));
            assertThat(e.get("00200013")).as(syntax).isEqualTo(Map.of("vr", "IS", "Value", List.of(7L)));
            assertThat(e.get("00280010")).as(syntax).isEqualTo(Map.of("vr", "US", "Value", List.of(4)));
            assertThat(e.get("00181310")).as(syntax).isEqualTo(Map.of("vr", "US", "Value", List.of(0, 4, 4, 0)));
            // an empty value is null in its place
            assertThat(e.get("00080008")).as(syntax).isEqualTo(Map.of("vr", "CS", "Value",
                    Arrays.asList("ORIGINAL", null, "AXIAL")));
            assertThat(e.get("00081140")).as(syntax).isEqualTo(Map.of("vr", "SQ", "Value", List.of(
                    Map.of("00081150", Map.of("vr", "UI", "Value", List.of("1.2.3")),
                            "00081155", Map.of("vr", "UI", "Value", List.of("1.2.3.4"))),
                    Map.of("00081150", Map.of("vr", "UI", "Value", List.of("1.2.5"))))));
            // a private element: in implicit VR nothing says what it is
            assertThat(e.get("00091010")).as(syntax).isEqualTo(Map.of("vr",
                    syntax.equals(TestDicom.IMPLICIT_LITTLE) ? "UN" : "OB", "InlineBinary", "AQIDBA=="));
            assertThat(e.get("7FE00010")).as(syntax).isEqualTo(Map.of("vr", "OW"));
            assertThat(List.copyOf(e.keySet())).as("in the file's order").isSorted();
            assertThat(dataSet.transferSyntax()).isEqualTo(syntax);
            assertThat(dataSet.pixels().length()).isEqualTo(32);
            assertThat(Arrays.copyOfRange(file, (int) dataSet.pixels().offset(), (int) dataSet.pixels().offset() + 32))
                    .isEqualTo(pixelBytes(TestDicom.ctPixels(4, 4), syntax.equals(TestDicom.EXPLICIT_BIG)));
        }
    }

    @Test
    void signed_pixels_make_an_ambiguous_value_signed_in_implicit_vr() {
        byte[] file = TestDicom.ctSlice(4, 4).bytes(0x00280106, "SS", new byte[]{(byte) 0xF6, (byte) 0xFF})
                .transferSyntax(TestDicom.IMPLICIT_LITTLE).toBytes();

        assertThat(DicomMetadata.read(file, file.length).elements().get("00280106"))
                .isEqualTo(Map.of("vr", "SS", "Value", List.of(-10)));
    }

    @Test
    void long_binary_values_are_bulk_data_and_a_head_that_ends_too_soon_asks_for_more() {
        byte[] blob = new byte[DicomMetadata.MAX_INLINE + 2];
        blob[0] = 7;
        byte[] file = TestDicom.ctSlice(4, 4).bytes(0x00091010, "OB", blob)
                .sequence(0x00091020, TestDicom.dataSet().bytes(0x00091030, "OB", blob)).toBytes();

        DicomMetadata.DataSet dataSet = DicomMetadata.read(file, file.length);
        assertThat(dataSet.elements().get("00091010")).isEqualTo(Map.of("vr", "OB"));
        DicomMetadata.Bulk bulk = dataSet.bulk().get("00091010");
        assertThat(Arrays.copyOfRange(file, (int) bulk.offset(), (int) (bulk.offset() + bulk.length())))
                .isEqualTo(blob);
        // within a sequence it is left out
        assertThat(dataSet.elements().get("00091020")).isEqualTo(Map.of("vr", "SQ", "Value", List.of(Map.of())));
        assertThat(dataSet.bulk()).containsOnlyKeys("00091010");
        assertThat(dataSet.elements()).containsKey("00280010");
        assertThatThrownBy(() -> DicomMetadata.read(Arrays.copyOf(file, 1000), file.length))
                .isInstanceOfSatisfying(DicomMetadata.NeedMore.class, more -> assertThat(more.bytes())
                        .isGreaterThan(DicomMetadata.MAX_INLINE).isLessThanOrEqualTo(file.length));
        assertThatThrownBy(() -> DicomMetadata.read(Arrays.copyOf(file, 100), file.length))
                .isInstanceOf(DicomMetadata.NeedMore.class);
    }

    @Test
    void what_cannot_be_read_so_is_refused() {
        byte[] file = TestDicom.ctSlice(4, 4).toBytes();
        assertThatThrownBy(() -> DicomMetadata.read(new byte[200], 200)).isInstanceOf(DicomMetadata.Unreadable.class);
        byte[] deflated = TestDicom.ctSlice(4, 4).transferSyntax("1.2.840.10008.1.2.1.99").toBytes();
        assertThatThrownBy(() -> DicomMetadata.read(deflated, deflated.length))
                .isInstanceOf(DicomMetadata.Unreadable.class).hasMessageContaining("deflated");
        byte[] lying = TestDicom.ctSlice(4, 4).lyingLength(0x00100020, 0xFFFF).toBytes();
        assertThatThrownBy(() -> DicomMetadata.read(lying, lying.length))
                .isInstanceOf(DicomMetadata.Unreadable.class).hasMessageContaining("past the end");
        TestDicom nested = TestDicom.dataSet().string(0x00080100, "SH", "x");
        for (int i = 0; i < 20; i++) {
            nested = TestDicom.dataSet().sequence(0x00081140, nested);
        }
        byte[] deep = TestDicom.ctSlice(4, 4).sequence(0x00081140, nested).toBytes();
        assertThatThrownBy(() -> DicomMetadata.read(deep, deep.length))
                .isInstanceOf(DicomMetadata.Unreadable.class).hasMessageContaining("nested");
        assertThat(DicomMetadata.read(file, file.length).pixels()).isNotNull();
    }

    @Test
    void frames_of_native_pixels_are_their_bytes_and_of_encapsulated_ones_their_fragments() throws IOException {
        byte[] two = new byte[2 * 4 * 4 * 2];
        for (int i = 0; i < two.length; i++) {
            two[i] = (byte) i;
        }
        byte[] nativeFile = TestDicom.ctSlice(4, 4).string(0x00280008, "IS", "2").pixels(two).toBytes();
        assertThat(frame(nativeFile, 2)).isEqualTo(Arrays.copyOfRange(two, 32, 64));
        assertThat(frame(nativeFile, 1)).isEqualTo(Arrays.copyOfRange(two, 0, 32));
        // big endian 16-bit pixels come as little endian, as the frame's transfer syntax says
        byte[] big = TestDicom.ctSlice(4, 4).transferSyntax(TestDicom.EXPLICIT_BIG).toBytes();
        assertThat(frame(big, 1)).isEqualTo(pixelBytes(TestDicom.ctPixels(4, 4), false));

        byte[] jpeg = TestDicom.ctSlice(4, 4).transferSyntax(TestDicom.JPEG_BASELINE)
                .encapsulatedPixels(new byte[]{1, 2}, new byte[]{3, 4, 5, 6}).toBytes();
        assertThat(frame(jpeg, 1)).as("one frame: all fragments").containsExactly(1, 2, 3, 4, 5, 6);
        byte[] cine = TestDicom.ctSlice(4, 4).string(0x00280008, "IS", "2").transferSyntax(TestDicom.JPEG_BASELINE)
                .encapsulatedPixels(new byte[]{1, 2}, new byte[]{3, 4, 5, 6}).toBytes();
        assertThat(frame(cine, 2)).as("no offsets: a fragment a frame").containsExactly(3, 4, 5, 6);
        DicomMetadata.DataSet dataSet = DicomMetadata.read(cine, cine.length);
        assertThat(DicomFrames.transferSyntax(dataSet)).isEqualTo(TestDicom.JPEG_BASELINE);
        assertThat(DicomFrames.mediaType(dataSet)).isEqualTo("image/jpeg");
        assertThat(DicomFrames.mediaType(DicomMetadata.read(nativeFile, nativeFile.length)))
                .isEqualTo("application/octet-stream");
        assertThat(DicomFrames.transferSyntax(DicomMetadata.read(nativeFile, nativeFile.length)))
                .isEqualTo(DicomFrames.EXPLICIT_LITTLE);
    }

    @Test
    void the_offset_table_names_where_each_frame_begins() throws IOException {
        byte[] cine = TestDicom.ctSlice(4, 4).string(0x00280008, "IS", "2").transferSyntax(TestDicom.JPEG_BASELINE)
                .encapsulatedPixels(new byte[]{1, 2}, new byte[]{3, 4}, new byte[]{5, 6, 7, 8}).toBytes();
        // the empty offset table (an item of length 0) becomes one of two offsets: frame 1 is two fragments
        DicomMetadata.DataSet dataSet = DicomMetadata.read(cine, cine.length);
        int table = (int) dataSet.pixels().offset();
        ByteArrayOutputStream withTable = new ByteArrayOutputStream();
        withTable.write(cine, 0, table + 4);
        withTable.writeBytes(ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(8).putInt(0).putInt(20)
                .array());
        withTable.write(cine, table + 8, cine.length - table - 8);
        byte[] file = withTable.toByteArray();

        assertThat(frame(file, 1)).containsExactly(1, 2, 3, 4);
        assertThat(frame(file, 2)).containsExactly(5, 6, 7, 8);
    }

    @Test
    void frames_that_cannot_be_given_are_said_to_be_so() {
        byte[] noPixels = TestDicom.dataSet().string(0x00080060, "CS", "SR").toBytes();
        assertThatThrownBy(() -> DicomFrames.requireReadable(DicomMetadata.read(noPixels, noPixels.length)))
                .isInstanceOf(DicomFrames.Unavailable.class).hasMessageContaining("no pixel data");
        byte[] big = TestDicom.ctSlice(4, 4).transferSyntax(TestDicom.EXPLICIT_BIG).us(0x00280100, 32)
                .pixels(new short[32]).toBytes();
        assertThatThrownBy(() -> DicomFrames.requireReadable(DicomMetadata.read(big, big.length)))
                .isInstanceOf(DicomFrames.Unavailable.class).hasMessageContaining("big endian");
        byte[] bits = TestDicom.ctSlice(4, 4).us(0x00280100, 1).toBytes();
        assertThatThrownBy(() -> DicomFrames.requireReadable(DicomMetadata.read(bits, bits.length)))
                .isInstanceOf(DicomFrames.Unavailable.class).hasMessageContaining("not whole bytes");
    }

    @Test
    void damaged_files_are_refused_or_read_never_anything_else() {
        List<byte[]> files = new java.util.ArrayList<>();
        for (String syntax : SYNTAXES) {
            files.add(aFile().transferSyntax(syntax).toBytes());
        }
        files.add(TestDicom.ctSlice(4, 4).string(0x00280008, "IS", "2").transferSyntax(TestDicom.JPEG_BASELINE)
                .encapsulatedPixels(new byte[]{1, 2}, new byte[]{3, 4}).toBytes());
        java.util.Random random = new java.util.Random(7);
        for (int round = 0; round < 20_000; round++) {
            byte[] file = files.get(random.nextInt(files.size())).clone();
            for (int i = 1 + random.nextInt(4); i > 0; i--) {
                file[132 + random.nextInt(file.length - 132)] = (byte) random.nextInt(256);
            }
            byte[] damaged = random.nextBoolean() ? file : Arrays.copyOf(file, 132 + random.nextInt(file.length - 132));
            try {
                DicomMetadata.DataSet dataSet = DicomMetadata.read(damaged, damaged.length);
                DicomFrames.requireReadable(dataSet);
                DicomFrames.write(dataSet, damaged.length, 1, (from, to) -> {
                    assertThat(from).isBetween(0L, to);
                    assertThat(to).isLessThan(damaged.length);
                    return new ByteArrayInputStream(damaged, (int) from, (int) (to - from + 1));
                }, new ByteArrayOutputStream());
            } catch (DicomMetadata.NeedMore | DicomMetadata.Unreadable | DicomFrames.Unavailable | IOException e) {
                // refused: what a damaged file is
            }
        }
    }

    private static byte[] frame(byte[] file, int frame) throws IOException {
        DicomMetadata.DataSet dataSet = DicomMetadata.read(file, file.length);
        DicomFrames.requireReadable(dataSet);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DicomFrames.write(dataSet, file.length, frame, (from, to) -> {
            assertThat(to).isLessThan(file.length);
            return new ByteArrayInputStream(file, (int) from, (int) (to - from + 1));
        }, out);
        return out.toByteArray();
    }

    private static byte[] pixelBytes(short[] pixels, boolean bigEndian) {
        ByteBuffer b = ByteBuffer.allocate(pixels.length * 2)
                .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(pixels);
        return b.array();
    }
}
