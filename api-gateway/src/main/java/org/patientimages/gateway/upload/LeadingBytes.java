package org.patientimages.gateway.upload;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** A stream read through as it is, that keeps a copy of its first bytes, at most {@code window} of them. */
final class LeadingBytes extends FilterInputStream {

    private final byte[] kept;
    private int length;
    private boolean ended;
    private boolean past; // bytes beyond the window went by

    LeadingBytes(InputStream in, int window) {
        super(in);
        this.kept = new byte[window];
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b < 0) {
            ended = true;
        } else if (length < kept.length) {
            kept[length++] = (byte) b;
        } else {
            past = true;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n < 0) {
            ended = true;
        } else {
            int copy = Math.min(n, kept.length - length);
            System.arraycopy(b, off, kept, length, copy);
            length += copy;
            past |= copy < n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // read, not skipped, so that what passes is kept
        return Math.max(read(new byte[(int) Math.min(Math.max(n, 0), 8192)]), 0);
    }

    /** The first bytes read. */
    byte[] bytes() {
        return Arrays.copyOf(kept, length);
    }

    /** Whether {@link #bytes()} are all the stream held: it ended within the window. */
    boolean whole() {
        return ended && !past;
    }
}
