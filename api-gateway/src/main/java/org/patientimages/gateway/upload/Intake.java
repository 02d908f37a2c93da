package org.patientimages.gateway.upload;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Consumer;

/** What every staging area learns of the bytes as they stream in: their size (bounded), SHA-256 and first bytes. */
final class Intake {

    static final int SNIFF_BYTES = 8192;

    private final long maxBytes;
    private final Consumer<byte[]> checkHead;
    private final MessageDigest digest;
    private final byte[] head = new byte[SNIFF_BYTES];
    private int headLength;
    private boolean headChecked;
    private long size;

    Intake(long maxBytes, Consumer<byte[]> checkHead) {
        this.maxBytes = maxBytes;
        this.checkHead = checkHead;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Takes the next bytes; refuses them once the total passes the limit. */
    void take(byte[] bytes, int offset, int length) throws StagingArea.TooLarge {
        size += length;
        if (size > maxBytes) {
            throw new StagingArea.TooLarge(maxBytes);
        }
        digest.update(bytes, offset, length);
        if (headLength < SNIFF_BYTES) {
            int copy = Math.min(length, SNIFF_BYTES - headLength);
            System.arraycopy(bytes, offset, head, headLength, copy);
            headLength += copy;
            if (headLength == SNIFF_BYTES) {
                checkHead.accept(head);
                headChecked = true;
            }
        }
    }

    /** The bytes have ended: a head shorter than the sniffing window is checked now. */
    StagingArea.Staged end(String key) {
        if (!headChecked && headLength > 0) {
            checkHead.accept(Arrays.copyOf(head, headLength));
        }
        return new StagingArea.Staged(key, size, HexFormat.of().formatHex(digest.digest()));
    }
}
