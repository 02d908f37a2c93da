package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.MediaTypes;
import org.springframework.http.ContentDisposition;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Reads a {@code multipart/form-data} or {@code multipart/related} body (RFC 7578, RFC 2387, RFC 2046 §5.1)
 * one part at a time, each part's bytes
 * streamed through a fixed buffer: nothing is held in memory beyond the buffer, nothing is written aside.
 * <p>
 * Why not Commons FileUpload, which the gateway used first: its boundary search compares every byte of the
 * body against the boundary (Knuth-Morris-Pratt, about 3.6 ms per MiB on this machine's cores) and was 96% of
 * the gateway's Java samples for 64 MiB uploads; its stream class cannot be extended to search differently.
 * This reader finds the delimiter with Boyer-Moore-Horspool, which looks at about one byte in forty of a
 * body that does not contain it.
 */
final class MultipartReader {

    static final int BUFFER = 64 * 1024;
    static final int MAX_HEADER_BYTES = 16 * 1024;
    /**
     * RFC 2046 §5.1.1 allows 70 characters; clients send longer ones (Orthanc's DICOMweb client two UUIDs, 73), and
     * a longer one costs nothing here but its length in each delimiter search.
     */
    private static final int MAX_BOUNDARY = 200;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HEADER_END = {'\r', '\n', '\r', '\n'};

    /** The body breaks the multipart format; the message says where, without quoting it. */
    static final class MalformedException extends IOException {
        MalformedException(String message) {
            super(message);
        }
    }

    /** The body is longer than the reader was allowed to read. */
    static final class TooLargeException extends IOException {
        TooLargeException(long maxBytes) {
            super("the body is larger than " + maxBytes + " bytes");
        }
    }

    /**
     * One part: its form field name (may be null), its file name (null for a plain field), its own
     * {@code Content-Type} (null when it has none) and its bytes.
     */
    record Part(String name, String filename, String contentType, InputStream body) {
    }

    private final InputStream in;
    private final long maxBytes;
    /** CRLF "--" boundary: what ends a part. The body is read as if it began with a CRLF. */
    private final byte[] delimiter;
    private final int[] shift = new int[256];
    private final byte[] buffer = new byte[BUFFER];
    private int head;
    private int tail;
    private long read;
    private boolean endOfInput;
    private boolean started;
    private boolean finished;
    private PartBody current;

    /**
     * @param contentType the request's {@code Content-Type}, whose {@code boundary} parameter delimits the parts
     * @param maxBytes    how many bytes of the body may be read at most
     * @throws MalformedException when the content type names no usable boundary
     */
    MultipartReader(String contentType, InputStream in, long maxBytes) throws MalformedException {
        this.in = in;
        this.maxBytes = maxBytes;
        byte[] boundary = boundary(contentType).getBytes(StandardCharsets.US_ASCII);
        this.delimiter = new byte[boundary.length + 4];
        delimiter[0] = '\r';
        delimiter[1] = '\n';
        delimiter[2] = '-';
        delimiter[3] = '-';
        System.arraycopy(boundary, 0, delimiter, 4, boundary.length);
        Arrays.fill(shift, delimiter.length);
        for (int i = 0; i < delimiter.length - 1; i++) {
            shift[delimiter[i] & 0xff] = delimiter.length - 1 - i;
        }
        buffer[0] = '\r';
        buffer[1] = '\n';
        tail = 2;
    }

    /** Whether a request's content type is multipart at all (its boundary is checked when it is read). */
    static boolean isMultipart(String contentType) {
        return contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith("multipart/");
    }

    private static String boundary(String contentType) throws MalformedException {
        String boundary;
        try {
            boundary = MediaType.parseMediaType(MediaTypes.lenient(contentType)).getParameter("boundary");
        } catch (InvalidMediaTypeException e) {
            throw new MalformedException("the content type cannot be parsed");
        }
        if (boundary != null && boundary.length() >= 2 && boundary.startsWith("\"") && boundary.endsWith("\"")) {
            boundary = boundary.substring(1, boundary.length() - 1);
        }
        if (boundary == null || boundary.isEmpty() || boundary.length() > MAX_BOUNDARY
                || !boundary.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw new MalformedException("the content type has no valid boundary");
        }
        return boundary;
    }

    /**
     * The next part, once whatever was left of the previous one is skipped; null after the closing delimiter.
     *
     * @throws MalformedException when the body breaks the format or ends before the closing delimiter
     * @throws TooLargeException  when the body is longer than allowed
     * @throws IOException        when the body cannot be read (the client stopped sending)
     */
    Part next() throws IOException {
        if (finished) {
            return null;
        }
        if (current != null) {
            current.transferTo(OutputStream.nullOutputStream());
        } else if (!started) {
            skipPreamble();
        }
        started = true;
        require(2, "the body ends after a delimiter");
        if (buffer[head] == '-' && buffer[head + 1] == '-') {
            finished = true; // the rest is the epilogue, which carries nothing
            current = null;
            return null;
        }
        while (true) { // transport padding, then the CRLF that ends the delimiter line
            require(1, "the body ends after a delimiter");
            if (buffer[head] != ' ' && buffer[head] != '\t') {
                break;
            }
            head++;
        }
        require(2, "the body ends after a delimiter");
        if (buffer[head] != '\r' || buffer[head + 1] != '\n') {
            throw new MalformedException("a delimiter line is not followed by CRLF");
        }
        head += 2;
        return readHeaders();
    }

    private void skipPreamble() throws IOException {
        while (true) {
            int at = indexOf(delimiter, head);
            if (at >= 0) {
                head = at + delimiter.length;
                return;
            }
            head = Math.max(head, tail - delimiter.length + 1); // what cannot start a delimiter is dropped
            if (!fill()) {
                throw new MalformedException("the body has no delimiter");
            }
        }
    }

    private Part readHeaders() throws IOException {
        require(2, "the body ends in a part's headers");
        int end;
        if (buffer[head] == '\r' && buffer[head + 1] == '\n') {
            end = head; // no headers at all
        } else {
            while ((end = indexOf(HEADER_END, head)) < 0) {
                if (tail - head > MAX_HEADER_BYTES) {
                    break;
                }
                if (!fill()) {
                    throw new MalformedException("the body ends in a part's headers");
                }
            }
            if (end < 0 || end - head > MAX_HEADER_BYTES) {
                throw new MalformedException("a part's headers are longer than " + MAX_HEADER_BYTES + " bytes");
            }
            end += 2; // the block ends with the CRLF of its last line
        }
        String block = new String(buffer, head, end - head, StandardCharsets.UTF_8);
        head = end + 2;
        String disposition = null;
        String contentType = null;
        String previous = null;
        for (String line : block.split("\r\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && previous != null) {
                line = previous + line; // obsolete line folding
            }
            previous = line;
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new MalformedException("a part's header line has no name");
            }
            String header = line.substring(0, colon).trim();
            if (header.equalsIgnoreCase("Content-Disposition")) {
                disposition = line.substring(colon + 1).trim();
            } else if (header.equalsIgnoreCase("Content-Type")) {
                contentType = line.substring(colon + 1).trim();
            }
        }
        String name = null;
        String filename = null;
        if (disposition != null) {
            try {
                ContentDisposition parsed = ContentDisposition.parse(disposition);
                name = parsed.getName();
                filename = parsed.getFilename();
            } catch (IllegalArgumentException e) {
                throw new MalformedException("a part's Content-Disposition cannot be parsed");
            }
        }
        current = new PartBody();
        return new Part(name, filename, contentType, current);
    }

    /** Makes at least {@code count} unread bytes available, or throws with the message when the body ends first. */
    private void require(int count, String message) throws IOException {
        while (tail - head < count) {
            if (!fill()) {
                throw new MalformedException(message);
            }
        }
    }

    /** Reads more of the body behind the unread bytes; false when the body has ended. */
    private boolean fill() throws IOException {
        if (endOfInput) {
            return false;
        }
        if (head > 0) {
            System.arraycopy(buffer, head, buffer, 0, tail - head);
            tail -= head;
            head = 0;
        }
        int n = in.read(buffer, tail, buffer.length - tail);
        if (n < 0) {
            endOfInput = true;
            return false;
        }
        read += n;
        if (read > maxBytes) {
            throw new TooLargeException(maxBytes);
        }
        tail += n;
        return true;
    }

    /** Where {@code pattern} first starts in the unread bytes at or after {@code from}, or -1. */
    private int indexOf(byte[] pattern, int from) {
        if (pattern == delimiter) {
            int last = delimiter.length - 1;
            byte lastByte = delimiter[last];
            for (int i = from; i + last < tail; i += shift[buffer[i + last] & 0xff]) {
                if (buffer[i + last] == lastByte && Arrays.equals(buffer, i, i + last, delimiter, 0, last)) {
                    return i;
                }
            }
            return -1;
        }
        for (int i = from; i + pattern.length <= tail; i++) {
            if (Arrays.equals(buffer, i, i + pattern.length, pattern, 0, pattern.length)) {
                return i;
            }
        }
        return -1;
    }

    /** The bytes of the current part, up to the next delimiter. */
    private final class PartBody extends InputStream {
        /** Unread bytes before this position hold no delimiter; where a delimiter starts, once found. */
        private int clearUntil = -1;
        private boolean found;
        private boolean ended;
        private final byte[] one = new byte[1];

        @Override
        public int read() throws IOException {
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            if (ended || current != this) {
                return -1;
            }
            if (length == 0) {
                return 0;
            }
            while (true) {
                if (clearUntil < head) {
                    int at = indexOf(delimiter, head);
                    found = at >= 0;
                    clearUntil = found ? at : Math.max(head, tail - delimiter.length + 1);
                }
                if (clearUntil > head) {
                    int n = Math.min(length, clearUntil - head);
                    System.arraycopy(buffer, head, into, offset, n);
                    head += n;
                    return n;
                }
                if (found) {
                    head += delimiter.length;
                    ended = true;
                    return -1;
                }
                if (!fill()) {
                    throw new MalformedException("the body ends inside a part");
                }
                clearUntil = -1; // the buffer moved: search again (only the few kept bytes twice)
            }
        }

        @Override
        public int available() {
            return ended || current != this || clearUntil < head ? 0 : clearUntil - head;
        }
    }
}
