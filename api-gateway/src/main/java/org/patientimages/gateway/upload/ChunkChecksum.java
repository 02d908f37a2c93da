package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;

/**
 * A checksum a client declared for the bytes of one request ({@code Upload-Checksum: <algorithm> <Base64>}, the tus
 * checksum extension): the request's bytes are kept only if they match it.
 */
record ChunkChecksum(String algorithm, byte[] expected) {

    /** The tus names of the algorithms offered, with their JDK names. tus requires sha1. */
    private static final Map<String, String> ALGORITHMS = Map.of("sha1", "SHA-1", "sha256", "SHA-256", "md5", "MD5");

    /** {@code Tus-Checksum-Algorithm}. */
    static final String OFFERED = "sha1,sha256,md5";

    /** The header's checksum, none without the header, or {@code 400} for an algorithm not offered or a bad value. */
    static ChunkChecksum parse(String header) {
        if (header == null) {
            return null;
        }
        String[] parts = header.strip().split(" ", 2);
        String algorithm = parts[0].toLowerCase(Locale.ROOT);
        if (!ALGORITHMS.containsKey(algorithm)) {
            throw ApiProblem.badRequest("CHECKSUM_ALGORITHM_UNSUPPORTED",
                    "Upload-Checksum names an algorithm this server does not offer; it offers " + OFFERED + ".");
        }
        try {
            byte[] expected = Base64.getDecoder().decode(parts.length == 2 ? parts[1].strip() : "");
            ChunkChecksum checksum = new ChunkChecksum(algorithm, expected);
            if (expected.length == checksum.digest().getDigestLength()) {
                return checksum;
            }
        } catch (IllegalArgumentException e) {
            // refused below
        }
        throw ApiProblem.badRequest("INVALID_UPLOAD_CHECKSUM",
                "Upload-Checksum must be an algorithm and the Base64 of that algorithm's digest of this request's bytes.");
    }

    MessageDigest digest() {
        try {
            return MessageDigest.getInstance(ALGORITHMS.get(algorithm));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has " + ALGORITHMS.get(algorithm), e);
        }
    }

    boolean matches(MessageDigest digest) {
        return MessageDigest.isEqual(digest.digest(), expected);
    }
}
