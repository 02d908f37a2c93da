package org.patientimages.gateway.upload;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/** A request body whose client goes away: its bytes, then "connection reset" where it should have ended. */
final class CutOffBody extends InputStream {

    private final ByteArrayInputStream bytes;

    CutOffBody(byte[] bytes) {
        this.bytes = new ByteArrayInputStream(bytes);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] into, int offset, int length) throws IOException {
        int n = bytes.read(into, offset, length);
        if (n < 0) {
            throw new IOException("connection reset");
        }
        return n;
    }
}
