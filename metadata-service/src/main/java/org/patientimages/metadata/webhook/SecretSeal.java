package org.patientimages.metadata.webhook;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Seals webhook signing secrets for the database with AES-256-GCM under a key the database does not hold
 * ({@code patient-images.webhooks.secret-key}), bound to their webhook (its id is the associated data, so a sealed
 * secret copied onto another webhook does not open). A sealed value is {@code sealed:v1:<key id>:<base64 of nonce,
 * ciphertext and tag>}; the key id (8 hex digits of the key's SHA-256) names the key that sealed it, so that the
 * previous keys ({@code previous-secret-keys}) still open what they sealed while the rows are sealed again under the
 * current one. Without a key, secrets are stored as issued. Pure: no Spring, no database.
 */
final class SecretSeal {

    static final String PREFIX = "sealed:v1:";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The keys by id, the current one (which seals) first; empty without a key. */
    private final Map<String, SecretKeySpec> keys;

    /**
     * @param key          the base64 of 32 random bytes, or null or blank for none
     * @param previousKeys keys that sealed earlier, to open what they sealed
     */
    SecretSeal(String key, List<String> previousKeys) {
        List<String> all = new ArrayList<>();
        if (key != null && !key.isBlank()) {
            all.add(key);
            all.addAll(previousKeys == null ? List.of() : previousKeys);
        } else if (previousKeys != null && !previousKeys.isEmpty()) {
            throw new IllegalArgumentException(
                    "patient-images.webhooks.previous-secret-keys needs patient-images.webhooks.secret-key");
        }
        this.keys = new LinkedHashMap<>();
        for (String encoded : all) {
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(encoded.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a webhook secret key is not base64");
            }
            if (bytes.length != 32) {
                throw new IllegalArgumentException("a webhook secret key must be 32 bytes (base64 of 32 random bytes)");
            }
            keys.putIfAbsent(id(bytes), new SecretKeySpec(bytes, "AES"));
        }
    }

    /** Whether secrets are sealed at all (a key is set). */
    boolean sealing() {
        return !keys.isEmpty();
    }

    /** The secret as it is stored: sealed under the current key, or as issued without one. */
    String seal(UUID webhookId, String secret) {
        if (keys.isEmpty()) {
            return secret;
        }
        Map.Entry<String, SecretKeySpec> current = keys.entrySet().iterator().next();
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        byte[] sealed = crypt(Cipher.ENCRYPT_MODE, current.getValue(), nonce, webhookId,
                secret.getBytes(StandardCharsets.UTF_8), 0);
        return PREFIX + current.getKey() + ":" + Base64.getEncoder().encodeToString(
                ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array());
    }

    /**
     * The secret of a stored value: a value stored as issued is the secret; a sealed one is opened with the key that
     * sealed it, and is empty when this instance does not have that key or the value does not open (changed, or
     * another webhook's).
     */
    Optional<String> open(UUID webhookId, String stored) {
        if (stored == null || !stored.startsWith(PREFIX)) {
            return Optional.ofNullable(stored);
        }
        String[] parts = stored.substring(PREFIX.length()).split(":", 2);
        SecretKeySpec key = keys.get(parts[0]);
        if (key == null || parts.length != 2) {
            return Optional.empty();
        }
        try {
            byte[] value = Base64.getDecoder().decode(parts[1]);
            if (value.length <= NONCE_BYTES) {
                return Optional.empty();
            }
            byte[] nonce = Arrays.copyOf(value, NONCE_BYTES);
            return Optional.of(new String(crypt(Cipher.DECRYPT_MODE, key, nonce, webhookId, value, NONCE_BYTES),
                    StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | SealBrokenException e) {
            return Optional.empty();
        }
    }

    /** Whether a stored value is as this instance would store it now (sealed under the current key, if any). */
    boolean current(String stored) {
        if (stored == null) {
            return true;
        }
        return keys.isEmpty() || stored.startsWith(PREFIX + keys.keySet().iterator().next() + ":");
    }

    /** A sealed value that does not open under its key. */
    private static final class SealBrokenException extends RuntimeException {
    }

    private static byte[] crypt(int mode, SecretKeySpec key, byte[] nonce, UUID webhookId, byte[] input, int offset) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(webhookId.toString().getBytes(StandardCharsets.US_ASCII));
            return cipher.doFinal(input, offset, input.length - offset);
        } catch (GeneralSecurityException e) {
            if (mode == Cipher.DECRYPT_MODE) {
                throw new SealBrokenException();
            }
            throw new IllegalStateException("AES-GCM is part of every JDK", e);
        }
    }

    private static String id(byte[] key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
