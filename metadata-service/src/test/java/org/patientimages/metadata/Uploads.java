package org.patientimages.metadata;

import org.patientimages.localstack.testing.TestHttp;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Registrations as the gateway sends them to the internal API, for the metadata-service's tests. */
final class Uploads {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Uploads() {
    }

    static String aPatient(TestHttp http) {
        return http.postJson("/internal/v1/patients", Map.of("name", "Jane Smith",
                "username", "jane-" + UUID.randomUUID().toString().substring(0, 8))).json().path("patientId").asString();
    }

    /** An upload of 1234 bytes with a SHA-256 of its own (so no two are duplicates unless a test makes them so). */
    static Map<String, Object> anUpload(String patientId, String idempotencyKey) {
        UUID jobId = UUID.randomUUID();
        byte[] sha = new byte[32];
        RANDOM.nextBytes(sha);
        Map<String, Object> u = new HashMap<>();
        u.put("jobId", jobId);
        u.put("imageId", UUID.randomUUID());
        u.put("patientId", patientId);
        u.put("name", "Knee");
        u.put("tags", List.of("knee", "mri"));
        u.put("originalFilename", "knee.png");
        u.put("contentType", "image/png");
        u.put("sizeBytes", 1234);
        u.put("sha256", HexFormat.of().formatHex(sha));
        u.put("stagingKey", jobId.toString());
        u.put("idempotencyKey", idempotencyKey);
        return u;
    }
}
