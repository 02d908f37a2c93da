package org.patientimages.metadata;

import org.patientimages.events.Topics;
import org.patientimages.events.v1.AttributesExtracted;
import org.patientimages.events.v1.ImageStored;
import org.patientimages.events.v1.JobEvent;
import org.patientimages.events.v1.JobStarted;
import org.patientimages.events.v1.JobSucceeded;
import org.patientimages.localstack.testing.TestHttp;
import org.springframework.kafka.core.KafkaTemplate;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.awaitility.Awaitility.await;

/** Registrations as the gateway sends them to the internal API, for the metadata-service's tests. */
final class Uploads {

    /** An image the pipeline stored: its id, its patient, its size and SHA-256. */
    record Stored(String imageId, String patientId, long size, String sha256) {
    }

    /** An image of a new patient taken through registration and a worker's facts to AVAILABLE, as the pipeline does it. */
    static Stored anAvailableImage(TestHttp http, KafkaTemplate<String, byte[]> kafka) {
        return anAvailableImage(http, kafka, aPatient(http), null);
    }

    /** The same for a given patient, with the attributes a worker read from the bytes (a JSON object) if not null. */
    static Stored anAvailableImage(TestHttp http, KafkaTemplate<String, byte[]> kafka, String patientId,
                                   String attributesJson) {
        Map<String, Object> upload = anUpload(patientId, null);
        if (http.postJson("/internal/v1/uploads", upload).status() != 201) {
            throw new AssertionError("upload not registered");
        }
        String jobId = upload.get("jobId").toString();
        String imageId = upload.get("imageId").toString();
        long size = ((Number) upload.get("sizeBytes")).longValue();
        String sha256 = upload.get("sha256").toString();
        List<JobEvent.Builder> facts = new java.util.ArrayList<>(List.of(
                fact(jobId, imageId).setStarted(JobStarted.newBuilder().setWorkerId("w1")),
                fact(jobId, imageId).setStored(ImageStored.newBuilder().setBucket("patient-images")
                        .setObjectKey("images/" + imageId + "/original").setSizeBytes(size).setSha256(sha256))));
        if (attributesJson != null) {
            facts.add(fact(jobId, imageId).setAttributesExtracted(
                    AttributesExtracted.newBuilder().setAttributesJson(attributesJson)));
        }
        facts.add(fact(jobId, imageId).setSucceeded(JobSucceeded.getDefaultInstance()));
        for (JobEvent.Builder fact : facts) {
            kafka.send(Topics.JOB_EVENTS, jobId, fact.build().toByteArray()).join();
        }
        await().atMost(Duration.ofSeconds(20)).until(() ->
                http.get("/internal/v1/images/" + imageId).json().path("status").asString().equals("AVAILABLE"));
        return new Stored(imageId, patientId, size, sha256);
    }

    /** A worker's fact about a job, as yet without what it says. */
    static JobEvent.Builder fact(String jobId, String imageId) {
        return JobEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setJobId(jobId).setImageId(imageId)
                .setOccurredAtEpochMs(System.currentTimeMillis());
    }

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
