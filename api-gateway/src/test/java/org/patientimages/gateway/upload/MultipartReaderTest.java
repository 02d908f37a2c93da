package org.patientimages.gateway.upload;

import org.apache.commons.fileupload2.core.MultipartInput;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MultipartReaderTest {

    private static final String BOUNDARY = "----form-7MA4YWxkTrZu0gW";
    private static final String TYPE = "multipart/form-data; boundary=" + BOUNDARY;

    @Test
    void a_file_and_a_metadata_part_come_out_with_their_names_and_exact_bytes() throws IOException {
        byte[] png = bytes(300_000, 7);
        byte[] body = concat(part("metadata", null, "{\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8)),
                part("file", "scan.png", png), ascii("--" + BOUNDARY + "--\r\n"));

        List<Read> parts = readAll(TYPE, new ByteArrayInputStream(body), Long.MAX_VALUE, 0);

        assertThat(parts).hasSize(2);
        assertThat(parts.get(0).name).isEqualTo("metadata");
        assertThat(parts.get(0).filename).isNull();
        assertThat(new String(parts.get(0).bytes, StandardCharsets.UTF_8)).isEqualTo("{\"name\":\"x\"}");
        assertThat(parts.get(1).name).isEqualTo("file");
        assertThat(parts.get(1).filename).isEqualTo("scan.png");
        assertThat(parts.get(1).bytes).isEqualTo(png);
    }

    @Test
    void random_bodies_full_of_near_delimiters_read_as_built_and_as_commons_fileupload_reads_them() throws IOException {
        Random random = new Random(42);
        for (int round = 0; round < 300; round++) {
            String boundary = randomBoundary(random);
            byte[] delimiter = ascii("\r\n--" + boundary);
            List<byte[]> contents = new ArrayList<>();
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (random.nextBoolean()) {
                body.writeBytes(ascii("a preamble\r\n"));
            }
            int count = 1 + random.nextInt(4);
            for (int i = 0; i < count; i++) {
                byte[] content = nearDelimiters(random, delimiter, random.nextInt(3) == 0 ? 0 : random.nextInt(200_000));
                contents.add(content);
                body.writeBytes(ascii("--" + boundary + "\r\n"
                        + "Content-Disposition: form-data; name=\"p" + i + "\"; filename=\"f" + i + ".bin\"\r\n"
                        + "Content-Type: application/octet-stream\r\n\r\n"));
                body.writeBytes(content);
                body.writeBytes(ascii("\r\n"));
            }
            body.writeBytes(ascii("--" + boundary + "--\r\nan epilogue"));
            byte[] bytes = body.toByteArray();
            String type = "multipart/form-data; boundary=\"" + boundary + "\"";

            List<Read> ours = readAll(type, new Dribble(bytes, random.nextInt(3) == 0 ? 1 + random.nextInt(7) : 70_000,
                    random.nextLong()), Long.MAX_VALUE, random.nextInt(3));
            List<byte[]> reference = commonsFileUpload(bytes, boundary);

            assertThat(ours).as("round %d", round).hasSize(count);
            for (int i = 0; i < count; i++) {
                assertThat(ours.get(i).name).isEqualTo("p" + i);
                assertThat(ours.get(i).filename).isEqualTo("f" + i + ".bin");
                assertThat(ours.get(i).bytes).as("round %d part %d", round, i).isEqualTo(contents.get(i))
                        .isEqualTo(reference.get(i));
            }
        }
    }

    @Test
    void a_part_the_caller_does_not_read_is_skipped_by_the_next_one() throws IOException {
        byte[] body = concat(part("ignored", null, bytes(150_000, 1)), part("file", "a.bin", ascii("kept")),
                ascii("--" + BOUNDARY + "--"));
        var reader = new MultipartReader(TYPE, new ByteArrayInputStream(body), Long.MAX_VALUE);

        assertThat(reader.next().name()).isEqualTo("ignored");
        MultipartReader.Part file = reader.next();

        assertThat(file.name()).isEqualTo("file");
        assertThat(file.body().readAllBytes()).isEqualTo(ascii("kept"));
        assertThat(reader.next()).isNull();
    }

    @Test
    void an_rfc_5987_file_name_is_decoded_as_utf_8_padding_after_a_delimiter_is_allowed_and_a_part_may_have_no_headers()
            throws IOException {
        byte[] body = concat(ascii("--" + BOUNDARY + " \t\r\n"
                        + "Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''r%C3%B6ntgen%20%E2%84%962.dcm\r\n\r\n"
                        + "x\r\n--" + BOUNDARY + "\r\n\r\nno headers\r\n"),
                ascii("--" + BOUNDARY + "--\r\n"));

        List<Read> parts = readAll(TYPE, new ByteArrayInputStream(body), Long.MAX_VALUE, 0);

        assertThat(parts.get(0).filename).isEqualTo("röntgen №2.dcm");
        assertThat(parts.get(1).name).isNull();
        assertThat(parts.get(1).bytes).isEqualTo(ascii("no headers"));
    }

    @Test
    void related_parts_with_a_long_boundary_keep_their_own_content_types_and_no_names() throws IOException {
        // as Orthanc's DICOMweb client sends them: its boundary is two UUIDs, 73 characters (RFC 2046 says 70)
        String orthanc = "061fb7fe-e727-433a-91c2-d305a97283f5-061fb7fe-e727-433a-91c2-d305a97283f5";
        byte[] dicom = bytes(70_000, 11);
        byte[] body = concat(ascii("--" + orthanc + "\r\nContent-Type: application/dicom\r\n\r\n"), dicom,
                ascii("\r\n--" + orthanc + "\r\ncontent-type:  application/dicom; transfer-syntax=1.2.840.10008.1.2.1"
                        + "\r\n\r\nsecond\r\n--" + orthanc + "--\r\n"));

        List<Read> parts = readAll("multipart/related; type=\"application/dicom\"; boundary=" + orthanc,
                new ByteArrayInputStream(body), Long.MAX_VALUE, 0);

        assertThat(parts).extracting(Read::contentType)
                .containsExactly("application/dicom", "application/dicom; transfer-syntax=1.2.840.10008.1.2.1");
        assertThat(parts).extracting(Read::name).containsOnlyNulls();
        assertThat(parts.get(0).bytes).isEqualTo(dicom);
        assertThat(parts.get(1).bytes).isEqualTo(ascii("second"));
    }

    @Test
    void a_content_type_without_a_usable_boundary_is_malformed() {
        for (String type : List.of("multipart/form-data", "multipart/form-data; boundary=",
                "multipart/form-data; boundary=" + "x".repeat(201), "multipart/form-data; boundary=\"a\u0001b\"",
                "multipart/")) {
            assertThatThrownBy(() -> new MultipartReader(type, InputStream.nullInputStream(), 1000))
                    .as(type).isInstanceOf(MultipartReader.MalformedException.class);
        }
    }

    @Test
    void bodies_that_break_the_format_are_malformed_not_misread() {
        String open = "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n";
        for (String body : List.of(
                "",                                                        // nothing at all
                "no delimiter anywhere",
                open + "the body ends inside the part",                    // no closing delimiter
                "--" + BOUNDARY + "\r\nContent-Disposition: form-data",   // ends in the headers
                "--" + BOUNDARY + "garbage\r\n\r\nx\r\n--" + BOUNDARY + "--", // no CRLF after the delimiter
                "--" + BOUNDARY + "\r\nno colon here\r\n\r\nx\r\n--" + BOUNDARY + "--",
                "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--" + BOUNDARY + "--",
                "--" + BOUNDARY + "\r\nX-Long: " + "h".repeat(MultipartReader.MAX_HEADER_BYTES) + "\r\n\r\nx\r\n--"
                        + BOUNDARY + "--",
                "--" + BOUNDARY)) {                                        // ends right after a delimiter
            assertThatThrownBy(() -> readAll(TYPE, new ByteArrayInputStream(ascii(body)), Long.MAX_VALUE, 0))
                    .as(body.length() > 80 ? body.substring(0, 80) : body)
                    .isInstanceOf(MultipartReader.MalformedException.class);
        }
    }

    @Test
    void a_body_longer_than_allowed_is_cut_off_while_it_streams() {
        byte[] body = concat(part("file", "big.bin", bytes(500_000, 3)), ascii("--" + BOUNDARY + "--"));

        assertThatThrownBy(() -> readAll(TYPE, new ByteArrayInputStream(body), 400_000, 0))
                .isInstanceOf(MultipartReader.TooLargeException.class);
        assertThat(readWithin(body, body.length)).hasSize(1);
    }

    @Test
    void only_multipart_content_types_are_taken_for_multipart() {
        assertThat(MultipartReader.isMultipart("Multipart/Form-Data; boundary=x")).isTrue();
        assertThat(MultipartReader.isMultipart("application/octet-stream")).isFalse();
        assertThat(MultipartReader.isMultipart(null)).isFalse();
    }

    private record Read(String name, String filename, String contentType, byte[] bytes) {
    }

    private static List<Read> readWithin(byte[] body, long maxBytes) {
        try {
            return readAll(TYPE, new ByteArrayInputStream(body), maxBytes, 0);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Reads every part, with {@code style} 0: bulk reads, 1: single bytes for a while, 2: small odd reads. */
    private static List<Read> readAll(String type, InputStream in, long maxBytes, int style) throws IOException {
        var reader = new MultipartReader(type, in, maxBytes);
        List<Read> parts = new ArrayList<>();
        for (MultipartReader.Part part; (part = reader.next()) != null; ) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream body = part.body();
            if (style == 1) {
                for (int i = 0, b; i < 1000 && (b = body.read()) >= 0; i++) {
                    out.write(b);
                }
            } else if (style == 2) {
                byte[] small = new byte[13];
                for (int i = 0, n; i < 500 && (n = body.read(small, 0, small.length)) >= 0; i++) {
                    out.write(small, 0, n);
                }
            }
            body.transferTo(out);
            assertThat(body.read()).isEqualTo(-1);
            parts.add(new Read(part.name(), part.filename(), part.contentType(), out.toByteArray()));
        }
        return parts;
    }

    private static List<byte[]> commonsFileUpload(byte[] body, String boundary) throws IOException {
        MultipartInput input = MultipartInput.builder().setInputStream(new ByteArrayInputStream(body))
                .setBoundary(ascii(boundary)).get();
        List<byte[]> parts = new ArrayList<>();
        for (boolean more = input.skipPreamble(); more; more = input.readBoundary()) {
            input.readHeaders();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            input.readBodyData(out);
            parts.add(out.toByteArray());
        }
        return parts;
    }

    /** Random bytes drawn mostly from the delimiter's own bytes, with its longest prefixes, never the whole. */
    private static byte[] nearDelimiters(Random random, byte[] delimiter, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < length) {
            switch (random.nextInt(4)) {
                case 0 -> out.write(delimiter, 0, 1 + random.nextInt(delimiter.length - 1));
                case 1 -> out.write(delimiter[random.nextInt(delimiter.length)]);
                default -> {
                    byte[] noise = new byte[random.nextInt(64)];
                    random.nextBytes(noise);
                    out.writeBytes(noise);
                }
            }
        }
        byte[] bytes = out.toByteArray();
        for (int i = 0; i + delimiter.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + delimiter.length, delimiter, 0, delimiter.length)) {
                bytes[i + delimiter.length - 1] ^= 1; // never the delimiter itself
            }
        }
        return bytes;
    }

    private static String randomBoundary(Random random) {
        String chars = "0123456789abcdefABCDEF-_'()+,./:=?";
        StringBuilder b = new StringBuilder();
        for (int i = 1 + random.nextInt(70); i > 0; i--) {
            b.append(chars.charAt(random.nextInt(chars.length())));
        }
        return b.toString();
    }

    private static byte[] part(String name, String filename, byte[] content) {
        return concat(ascii("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
                + (filename == null ? "" : "; filename=\"" + filename + "\"") + "\r\n\r\n"), content, ascii("\r\n"));
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... arrays) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] a : arrays) {
            out.writeBytes(a);
        }
        return out.toByteArray();
    }

    /** Hands out a body in pieces of random size up to a maximum, as a socket does. */
    private static final class Dribble extends InputStream {
        private final byte[] bytes;
        private final int maxPiece;
        private final Random random;
        private int at;

        Dribble(byte[] bytes, int maxPiece, long seed) {
            this.bytes = bytes;
            this.maxPiece = maxPiece;
            this.random = new Random(seed);
        }

        @Override
        public int read() {
            return at < bytes.length ? bytes[at++] & 0xff : -1;
        }

        @Override
        public int read(byte[] into, int offset, int length) {
            if (at >= bytes.length) {
                return -1;
            }
            int n = Math.min(Math.min(length, bytes.length - at), 1 + random.nextInt(maxPiece));
            System.arraycopy(bytes, at, into, offset, n);
            at += n;
            return n;
        }
    }
}
