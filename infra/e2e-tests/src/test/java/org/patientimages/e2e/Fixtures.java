package org.patientimages.e2e;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** Test data shared by the end-to-end and fault suites. */
final class Fixtures {

    private Fixtures() {
    }

    /** Random bytes that no content sniffer takes for a refused format. */
    static byte[] randomBytes(int size) {
        byte[] b = new byte[size];
        new Random().nextBytes(b);
        if (size > 0) {
            b[0] = 0x01;
        }
        return b;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
