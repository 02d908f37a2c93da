package org.patientimages.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.patientimages.localstack.LocalPostgres;
import org.patientimages.localstack.Tokens;
import org.patientimages.localstack.testing.TestDicom;
import org.patientimages.localstack.testing.TestHttp;
import org.patientimages.localstack.testing.TestHttp.Part;
import org.patientimages.localstack.testing.TestImages;
import tools.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Authentication, per-patient authorization and the audit trail, with real tokens from the stack's own
 * OpenID Connect issuer (users sign in on its login form), through the gateway as clients call it.
 */
class SecurityIT {

    static TestStack stack;
    static TestHttp admin;
    static TestHttp alice;
    static TestHttp bob;
    static TestHttp auditor;
    static TestHttp anonymous;
    /** alice's patient and image, and bob's. */
    static String alicePatient;
    static String aliceImage;
    static String bobPatient;
    static String bobImage;
    static String bobJob;

    @BeforeAll
    static void startStack() throws Exception {
        stack = TestStack.start(8L * 1024 * 1024);
        stack.startWorker();
        anonymous = new TestHttp(stack.gateway.url());
        admin = stack.api;
        alice = anonymous.withToken(stack.token("alice"));
        bob = anonymous.withToken(stack.token("bob"));
        auditor = anonymous.withToken(stack.token("auditor"));

        // an admin registers alice's patient and grants it to her; bob registers his own (granted on creation)
        alicePatient = admin.postJson("/v1/patients", Map.of("name", "Alice's patient", "username", "sec-a-" + UUID.randomUUID()))
                .json().path("patientId").asString();
        assertThat(admin.send("PUT", "/v1/patients/" + alicePatient + "/grants/alice", null).status()).isEqualTo(200);
        var created = bob.postJson("/v1/patients", Map.of("name", "Bob's patient", "username", "sec-b-" + UUID.randomUUID()));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        bobPatient = created.json().path("patientId").asString();

        aliceImage = upload(alice, alicePatient, "alice-scan.png").path("imageId").asString();
        JsonNode bobs = upload(bob, bobPatient, "bob-scan.png");
        bobImage = bobs.path("imageId").asString();
        bobJob = bobs.path("jobId").asString();
        await().atMost(Duration.ofSeconds(60)).until(() ->
                bob.get("/v1/jobs/" + bobJob).json().path("status").asString().equals("SUCCEEDED")
                        && admin.get("/v1/images/" + aliceImage).json().path("status").asString().equals("AVAILABLE"));
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
    }

    private static JsonNode upload(TestHttp as, String patientId, String filename) throws Exception {
        var accepted = as.postMultipart("/v1/patients/" + patientId + "/images",
                List.of(Part.bytes("file", filename, "image/png", TestImages.aPngImage(64, 48))));
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        return accepted.json();
    }

    // --- authentication

    @Test
    void a_call_without_a_valid_token_is_401_problem_json() {
        for (TestHttp.Answer answer : List.of(
                anonymous.get("/v1/patients"),
                anonymous.get("/v1/images/" + bobImage),
                anonymous.withToken("not-a-jwt").get("/v1/patients"),
                anonymous.withToken(unsigned()).get("/v1/patients"),
                anonymous.withToken(forged()).get("/v1/patients"),
                anonymous.withToken(stack.clientToken("elsewhere", "elsewhere-secret")).get("/v1/patients"))) {
            assertThat(answer.status()).as(answer.toString()).isEqualTo(401);
            assertThat(answer.contentType()).isEqualTo("application/problem+json");
            assertThat(answer.json().path("code").asString()).isEqualTo("UNAUTHENTICATED");
            assertThat(answer.header("WWW-Authenticate")).startsWith("Bearer");
        }
        // the same call with a good token passes: the refusals above are the tokens'
        assertThat(admin.get("/v1/patients").status()).isEqualTo(200);
    }

    @Test
    void an_expired_token_is_refused() {
        TestHttp brief = anonymous.withToken(stack.clientToken("brief", "brief-secret"));
        await().atMost(Duration.ofSeconds(20)).until(() -> brief.get("/v1/patients").status() == 401);
        assertThat(brief.get("/v1/patients").header("WWW-Authenticate")).contains("expired");
    }

    @Test
    void the_management_endpoints_are_not_on_the_public_port() {
        assertThat(admin.get("/actuator/health").status()).isEqualTo(404);
        assertThat(admin.get("/actuator/prometheus").status()).isEqualTo(404);
        assertThat(new TestHttp(stack.gateway.managementUrl()).get("/actuator/health").json().path("status").asString())
                .isEqualTo("UP");
    }

    // --- authorization

    @Test
    void a_clinician_gets_404_for_everything_of_a_patient_not_granted_to_them() {
        assertThat(alice.get("/v1/patients/" + alicePatient).status()).isEqualTo(200);
        assertThat(alice.get("/v1/images/" + aliceImage).status()).isEqualTo(200);
        // the change feed tells her of her patients' images only
        assertThat(ids(alice.get("/v1/changes?limit=500"), "imageId")).contains(aliceImage).doesNotContain(bobImage);
        assertThat(ids(admin.get("/v1/changes?limit=500"), "imageId")).contains(aliceImage, bobImage);
        for (String path : List.of("/v1/patients/" + bobPatient, "/v1/patients/" + bobPatient + "/images",
                "/v1/patients/" + bobPatient + "/images/archive", "/v1/changes?patientId=" + bobPatient,
                "/v1/images/" + bobImage, "/v1/images/" + bobImage + "/content", "/v1/images/" + bobImage + "/thumbnail",
                "/v1/jobs/" + bobJob, "/v1/jobs/" + bobJob + "/events")) {
            TestHttp.Answer denied = alice.get(path);
            assertThat(denied.status()).as(path + " " + denied).isEqualTo(404);
            // exactly what an id that does not exist gets: nothing tells the two apart
            String unknown = path.replace(bobPatient, UUID.randomUUID().toString()).replace(bobImage, UUID.randomUUID().toString())
                    .replace(bobJob, UUID.randomUUID().toString());
            TestHttp.Answer missing = alice.get(unknown);
            assertThat(missing.status()).isEqualTo(404);
            assertThat(denied.json().path("code").asString()).isEqualTo(missing.json().path("code").asString());
            assertThat(denied.header("X-Access-Denied")).isNull();
        }
        assertThat(alice.send("POST", "/v1/images/" + bobImage + "/tags", Map.of("tags", List.of("x"))).status()).isEqualTo(404);
        assertThat(alice.send("PATCH", "/v1/images/" + bobImage, Map.of("name", "x")).status()).isEqualTo(404);
        assertThat(alice.send("DELETE", "/v1/images/" + bobImage, null).status()).isEqualTo(404);
        // an image moves only between patients the caller may see both of
        assertThat(alice.postJson("/v1/images/" + bobImage + "/move", Map.of("patientId", alicePatient)).status())
                .isEqualTo(404);
        var toBobs = alice.postJson("/v1/images/" + aliceImage + "/move", Map.of("patientId", bobPatient));
        assertThat(toBobs.status()).isEqualTo(404);
        assertThat(toBobs.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        assertThat(admin.get("/v1/images/" + aliceImage).json().path("patientId").asString()).isEqualTo(alicePatient);
        assertThat(alice.postMultipart("/v1/patients/" + bobPatient + "/images",
                List.of(Part.bytes("file", "x.bin", "application/octet-stream", new byte[]{1, 2, 3}))).status()).isEqualTo(404);
        assertThat(alice.send("POST", "/v1/jobs/" + bobJob + "/cancel", null).status()).isEqualTo(404);
        assertThat(alice.send("POST", "/v1/jobs/" + bobJob + "/retry", null).status()).isEqualTo(404);
        assertThat(alice.postMultipart("/v1/patients/" + bobPatient + "/images/archive",
                List.of(Part.bytes("file", "x.zip", "application/zip", new byte[]{1, 2, 3}))).status()).isEqualTo(404);
        assertThat(alice.postRelated("/v1/patients/" + bobPatient + "/dicomweb/studies", "application/dicom",
                List.of(Part.bytes(null, null, "application/dicom", TestDicom.ctSlice(8, 8).toBytes()))).status())
                .isEqualTo(404);
        assertThat(alice.get("/v1/patients/" + bobPatient + "/dicomweb/studies").status()).isEqualTo(404);
        assertThat(alice.get("/v1/patients/" + bobPatient + "/dicomweb/studies/1.2.3").status()).isEqualTo(404);
        // and bob's image is untouched
        JsonNode image = bob.get("/v1/images/" + bobImage).json();
        assertThat(image.path("status").asString()).isEqualTo("AVAILABLE");
        assertThat(image.path("tags").size()).isZero();
    }

    @Test
    void an_image_moved_to_another_patient_is_in_the_audit_trail_of_both_patients() {
        var there = admin.postJson("/v1/images/" + aliceImage + "/move", Map.of("patientId", bobPatient));
        assertThat(there.status()).as(there.toString()).isEqualTo(200);
        assertThat(there.header("X-Moved-From")).as("internal only").isNull();
        var back = admin.postJson("/v1/images/" + aliceImage + "/move", Map.of("patientId", alicePatient));
        assertThat(back.status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String patient : List.of(alicePatient, bobPatient)) {
                List<String> moves = new java.util.ArrayList<>();
                auditor.get("/v1/audit?action=image.move&patientId=" + patient).json().path("items")
                        .forEach(r -> moves.add(r.path("patientId").asString() + " from "
                                + r.path("relatedPatientId").asString() + " " + r.path("resourceId").asString()));
                assertThat(moves).as("the trail of " + patient).contains(
                        bobPatient + " from " + alicePatient + " " + aliceImage,
                        alicePatient + " from " + bobPatient + " " + aliceImage);
            }
        });
    }

    @Test
    void a_patient_merged_into_another_is_in_the_audit_trail_of_both_and_its_images_follow() {
        String duplicate = admin.postJson("/v1/patients", Map.of("name", "Registered twice",
                "username", "sec-m-" + UUID.randomUUID())).json().path("patientId").asString();
        String kept = admin.postJson("/v1/patients", Map.of("name", "Registered once",
                "username", "sec-k-" + UUID.randomUUID())).json().path("patientId").asString();
        var merged = admin.postJson("/v1/patients/" + duplicate + "/merge", Map.of("into", kept));
        assertThat(merged.status()).as(merged.toString()).isEqualTo(200);
        assertThat(merged.json().path("patientId").asString()).isEqualTo(kept);
        var gone = admin.get("/v1/patients/" + duplicate);
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.json().path("detail").asString()).contains("merged into patient " + kept);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String patient : List.of(duplicate, kept)) {
                List<String> merges = new java.util.ArrayList<>();
                auditor.get("/v1/audit?action=patient.merge&patientId=" + patient).json().path("items")
                        .forEach(r -> merges.add(r.path("patientId").asString() + " into "
                                + r.path("relatedPatientId").asString() + " " + r.path("outcome").asString()));
                assertThat(merges).as("the trail of " + patient).containsExactly(duplicate + " into " + kept + " ALLOWED");
            }
        });
    }

    @Test
    void lists_and_searches_hold_only_the_callers_patients() {
        assertThat(ids(alice.get("/v1/images?limit=500"), "imageId")).contains(aliceImage).doesNotContain(bobImage);
        assertThat(ids(bob.get("/v1/images?limit=500"), "imageId")).contains(bobImage).doesNotContain(aliceImage);
        assertThat(ids(alice.get("/v1/images?patientId=" + bobPatient), "imageId")).isEmpty();
        assertThat(ids(alice.get("/v1/jobs?patientId=" + bobPatient), "jobId")).isEmpty();
        assertThat(ids(bob.get("/v1/jobs?patientId=" + bobPatient), "jobId")).contains(bobJob);
        assertThat(ids(alice.get("/v1/patients?limit=500"), "patientId")).contains(alicePatient).doesNotContain(bobPatient);
        // found by a part of the name, among the caller's patients only
        assertThat(ids(alice.get("/v1/patients?limit=500&q=S%20PATIENT"), "patientId")).contains(alicePatient)
                .doesNotContain(bobPatient);
        assertThat(ids(admin.get("/v1/patients?limit=500&q=s%20patient"), "patientId")).contains(alicePatient, bobPatient);
        assertThat(ids(admin.get("/v1/images?limit=500"), "imageId")).contains(aliceImage, bobImage);
    }

    @Test
    void an_admin_grants_and_revokes_access_to_a_patient() throws Exception {
        String patient = admin.postJson("/v1/patients", Map.of("name", "Shared", "username", "sec-s-" + UUID.randomUUID()))
                .json().path("patientId").asString();
        assertThat(bob.get("/v1/patients/" + patient).status()).isEqualTo(404);
        assertThat(admin.send("PUT", "/v1/patients/" + patient + "/grants/bob", null).status()).isEqualTo(200);
        assertThat(bob.get("/v1/patients/" + patient).status()).isEqualTo(200);
        assertThat(ids(admin.get("/v1/patients/" + patient + "/grants"), "username")).containsExactly("bob");
        upload(bob, patient, "granted.png");
        assertThat(admin.send("DELETE", "/v1/patients/" + patient + "/grants/bob", null).status()).isEqualTo(204);
        assertThat(bob.get("/v1/patients/" + patient).status()).isEqualTo(404);
        // the gateway still takes bob's access to this patient as known (patient-check-ttl), so it reads the body;
        // the metadata-service's own check at registration refuses it all the same, and nothing is recorded
        var afterRevoke = bob.postMultipart("/v1/patients/" + patient + "/images",
                List.of(Part.bytes("file", "revoked.png", "image/png", TestImages.aPngImage(8, 8))));
        assertThat(afterRevoke.status()).as(afterRevoke.toString()).isEqualTo(404);
        assertThat(afterRevoke.json().path("code").asString()).isEqualTo("PATIENT_NOT_FOUND");
        assertThat(ids(admin.get("/v1/images?patientId=" + patient), "imageId")).hasSize(1);
        assertThat(admin.send("DELETE", "/v1/patients/" + patient + "/grants/bob", null).status()).isEqualTo(404);
        assertThat(admin.send("PUT", "/v1/patients/" + patient + "/grants/" + "bad%20name", null).status()).isEqualTo(400);
    }

    @Test
    void each_role_makes_only_its_own_calls() {
        var forbidden = List.of(
                auditor.get("/v1/patients"), auditor.get("/v1/images/" + bobImage),
                alice.get("/v1/audit"), alice.send("PUT", "/v1/patients/" + alicePatient + "/grants/bob", null),
                alice.send("DELETE", "/v1/patients/" + alicePatient, null),
                auditor.send("POST", "/v1/jobs/" + bobJob + "/cancel", null),
                auditor.send("POST", "/v1/jobs/" + bobJob + "/retry", null),
                auditor.get("/v1/jobs?status=FAILED"),
                alice.send("POST", "/v1/jobs/retry-failed", null),
                alice.send("POST", "/v1/images/" + aliceImage + "/integrity-checks", null),
                alice.send("POST", "/v1/images/" + aliceImage + "/derivations", null),
                alice.send("POST", "/v1/images/derivations?contentType=image/png", null),
                auditor.send("POST", "/v1/images/derivations", null),
                alice.send("POST", "/v1/images/" + aliceImage + "/restore", null),
                alice.send("POST", "/v1/patients/" + alicePatient + "/restore", null),
                alice.send("DELETE", "/v1/images/" + aliceImage + "?purge=true", null),
                alice.get("/v1/images?status=DELETED"),
                alice.get("/v1/patients?status=DELETED"),
                alice.send("PUT", "/v1/patients/" + alicePatient + "/legal-hold", Map.of("reason", "mine")),
                alice.send("DELETE", "/v1/patients/" + alicePatient + "/legal-hold", null),
                alice.postJson("/v1/patients/" + alicePatient + "/merge", Map.of("into", bobPatient)),
                alice.postJson("/v1/patients/" + alicePatient + "/unmerge", Map.of()),
                alice.get("/v1/storage/orphans"), auditor.get("/v1/storage/orphans"),
                alice.postJson("/v1/storage/orphans/" + UUID.randomUUID() + "/adopt", Map.of()),
                alice.send("DELETE", "/v1/storage/orphans/" + UUID.randomUUID(), null),
                auditor.get("/v1/changes"),
                alice.postJson("/v1/webhooks", Map.of("url", "https://pacs.hospital.example/hook")),
                alice.get("/v1/webhooks"), auditor.get("/v1/webhooks/" + UUID.randomUUID()),
                alice.send("DELETE", "/v1/webhooks/" + UUID.randomUUID(), null),
                alice.send("POST", "/v1/webhooks/" + UUID.randomUUID() + "/rotate-secret", null),
                alice.send("POST", "/v1/webhooks/" + UUID.randomUUID() + "/test", null),
                alice.send("POST", "/v1/webhooks/" + UUID.randomUUID() + "/resume", null),
                auditor.get("/v1/patients/" + bobPatient + "/images/archive"),
                auditor.send("POST", "/v1/images/" + bobImage + "/integrity-checks", null),
                auditor.postMultipart("/v1/patients/" + bobPatient + "/images/archive",
                        List.of(Part.bytes("file", "x.zip", "application/zip", new byte[]{1, 2, 3}))),
                auditor.get("/v1/patients/" + bobPatient + "/dicomweb/studies"),
                auditor.postRelated("/v1/patients/" + bobPatient + "/dicomweb/studies", "application/dicom",
                        List.of(Part.bytes(null, null, "application/dicom", new byte[]{1, 2, 3}))),
                auditor.postRelated("/v1/dicomweb/studies", "application/dicom",
                        List.of(Part.bytes(null, null, "application/dicom", new byte[]{1, 2, 3}))));
        for (TestHttp.Answer answer : forbidden) {
            assertThat(answer.status()).as(answer.toString()).isEqualTo(403);
            assertThat(answer.json().path("code").asString()).isEqualTo("FORBIDDEN");
        }
        // a machine uploader creates patients, uploads and follows its jobs, and reads nothing else
        TestHttp uploader = anonymous.withToken(stack.clientToken(Tokens.UPLOADER_CLIENT, Tokens.UPLOADER_DEV_SECRET));
        String identifier = "MRN-u-" + UUID.randomUUID();
        String patient = uploader.postJson("/v1/patients", Map.of("name", "From a modality", "username",
                "sec-u-" + UUID.randomUUID(), "identifier", identifier)).json().path("patientId").asString();
        var accepted = uploader.postMultipart("/v1/patients/" + patient + "/images",
                List.of(Part.bytes("file", "ct.bin", "application/octet-stream", new byte[]{1, 2, 3})));
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        assertThat(uploader.get("/v1/jobs/" + accepted.json().path("jobId").asString()).status()).isEqualTo(200);
        // and stores DICOM files as a modality or a PACS sends them (DICOMweb)
        var stored = uploader.postRelated("/v1/patients/" + patient + "/dicomweb/studies", "application/dicom",
                List.of(Part.bytes(null, null, "application/dicom", TestDicom.ctSlice(8, 8).toBytes())));
        assertThat(stored.status()).as(stored.toString()).isEqualTo(200);
        // at the service's root too, where the file's Patient ID names the patient
        var storedAtRoot = uploader.postRelated("/v1/dicomweb/studies", "application/dicom", List.of(Part.bytes(null,
                null, "application/dicom", TestDicom.ctSlice(8, 8).string(0x00100020, "LO", identifier)
                        .string(0x00080018, "UI", "1.2.826.0.1.3680043.2.1125.11.1").toBytes())));
        assertThat(storedAtRoot.status()).as(storedAtRoot.toString()).isEqualTo(200);
        // it may retry its jobs: this one has not failed, which the service says
        var notFailed = uploader.send("POST", "/v1/jobs/" + accepted.json().path("jobId").asString() + "/retry", null);
        assertThat(notFailed.status()).as(notFailed.toString()).isEqualTo(409);
        assertThat(notFailed.json().path("code").asString()).isEqualTo("JOB_NOT_RETRYABLE");
        assertThat(uploader.get("/v1/images").status()).isEqualTo(403);
        assertThat(uploader.send("POST", "/v1/jobs/retry-failed", null).status()).isEqualTo(403);
        assertThat(uploader.send("POST", "/v1/images/" + bobImage + "/integrity-checks", null).status()).isEqualTo(403);
        assertThat(uploader.send("POST", "/v1/images/" + bobImage + "/derivations", null).status()).isEqualTo(403);
        assertThat(uploader.get("/v1/changes").status()).isEqualTo(403);
        assertThat(uploader.postJson("/v1/images/" + bobImage + "/move", Map.of("patientId", patient)).status())
                .isEqualTo(403);
        assertThat(uploader.get("/v1/jobs?status=FAILED").status()).isEqualTo(403);
        assertThat(admin.send("POST", "/v1/jobs/retry-failed?limit=1", null).status()).isEqualTo(200);
        assertThat(uploader.get("/v1/patients/" + patient).status()).isEqualTo(403);
        assertThat(auditor.get("/v1/audit").status()).isEqualTo(200);
    }

    @Test
    void a_resumable_upload_is_its_creators_alone_for_a_patient_they_may_see_and_is_audited() throws Exception {
        String aliceToken = stack.token("alice");
        String bobToken = stack.token("bob");
        var notHers = Tus.send(stack.gateway, aliceToken, "POST", "/v1/patients/" + bobPatient + "/uploads", null,
                "Upload-Length", "10");
        assertThat(notHers.statusCode()).isEqualTo(404);

        String upload = Tus.create(stack.gateway, bobToken, bobPatient, 10);
        for (String other : List.of(aliceToken, stack.adminToken)) {
            assertThat(Tus.send(stack.gateway, other, "HEAD", upload, null).statusCode()).isEqualTo(404);
            assertThat(Tus.send(stack.gateway, other, "PATCH", upload, new byte[10], "Upload-Offset", "0").statusCode())
                    .isEqualTo(404);
            assertThat(Tus.send(stack.gateway, other, "DELETE", upload, null).statusCode()).isEqualTo(404);
        }
        String auditorToken = stack.token("auditor");
        assertThat(Tus.send(stack.gateway, auditorToken, "POST", "/v1/patients/" + bobPatient + "/uploads", null,
                "Upload-Length", "10").statusCode()).isEqualTo(403);
        assertThat(Tus.send(stack.gateway, auditorToken, "HEAD", upload, null).statusCode()).isEqualTo(403);
        String machine = stack.clientToken(Tokens.UPLOADER_CLIENT, Tokens.UPLOADER_DEV_SECRET);
        String fromMachine = Tus.create(stack.gateway, machine, bobPatient, 3);
        assertThat(Tus.send(stack.gateway, machine, "PATCH", fromMachine, new byte[] {1, 2, 3}, "Upload-Offset", "0")
                .statusCode()).isEqualTo(204);
        assertThat(Tus.send(stack.gateway, bobToken, "HEAD", upload, null).headers().firstValue("Upload-Offset"))
                .hasValue("0");
        assertThat(bob.send("DELETE", upload, null).status()).isEqualTo(204);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode bobs = auditor.get("/v1/audit?actor=bob&limit=500").json();
            List<String> actions = new java.util.ArrayList<>();
            bobs.path("items").forEach(item -> {
                if (bobPatient.equals(item.path("patientId").asString())) {
                    actions.add(item.path("action").asString());
                }
            });
            assertThat(actions).contains("upload.create", "upload.read", "upload.delete");
        });
    }

    @Test
    void a_clinician_deletes_and_only_an_admin_restores_or_purges_each_audited_as_such() throws Exception {
        String imageId = upload(bob, bobPatient, "to-restore.png").path("imageId").asString();
        await().atMost(Duration.ofSeconds(30)).until(() ->
                bob.get("/v1/images/" + imageId).json().path("status").asString().equals("AVAILABLE"));
        assertThat(bob.send("DELETE", "/v1/images/" + imageId, null).status()).isEqualTo(204);
        assertThat(bob.send("POST", "/v1/images/" + imageId + "/restore", null).status()).isEqualTo(403);
        assertThat(admin.send("POST", "/v1/images/" + imageId + "/restore", null).status()).isEqualTo(200);
        assertThat(bob.get("/v1/images/" + imageId).status()).isEqualTo(200);
        var refused = bob.send("DELETE", "/v1/images/" + imageId + "?purge=true", null);
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.json().path("code").asString()).isEqualTo("FORBIDDEN");
        assertThat(bob.get("/v1/images/" + imageId).status()).as("a refused purge deletes nothing").isEqualTo(200);
        assertThat(admin.send("DELETE", "/v1/images/" + imageId + "?purge=true", null).status()).isEqualTo(204);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            List<String> actions = new java.util.ArrayList<>();
            auditor.get("/v1/audit?limit=500").json().path("items").forEach(item -> {
                if (imageId.equals(item.path("resourceId").asString())) {
                    actions.add(item.path("actor").asString() + " " + item.path("action").asString() + " "
                            + item.path("outcome").asString());
                }
            });
            assertThat(actions).contains("bob image.delete ALLOWED", "bob image.restore FORBIDDEN",
                    "admin image.restore ALLOWED", "bob image.purge FORBIDDEN", "admin image.purge ALLOWED");
        });
    }

    @Test
    void an_admin_s_legal_hold_stops_a_clinician_deleting_until_it_is_released_and_both_are_audited() {
        var held = admin.send("PUT", "/v1/patients/" + bobPatient + "/legal-hold", Map.of("reason", "complaint 77"));
        assertThat(held.status()).as(held.toString()).isEqualTo(200);
        assertThat(held.json().path("legalHold").path("by").asString()).isEqualTo("admin");
        try {
            var refused = bob.send("DELETE", "/v1/images/" + bobImage, null);
            assertThat(refused.status()).isEqualTo(409);
            assertThat(refused.json().path("code").asString()).isEqualTo("LEGAL_HOLD");
            assertThat(bob.get("/v1/patients/" + bobPatient).json().path("legalHold").path("reason").asString())
                    .isEqualTo("complaint 77");
        } finally {
            assertThat(admin.send("DELETE", "/v1/patients/" + bobPatient + "/legal-hold", null).status()).isEqualTo(204);
        }
        assertThat(bob.get("/v1/images/" + bobImage).status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            List<String> actions = new java.util.ArrayList<>();
            auditor.get("/v1/audit?patientId=" + bobPatient + "&limit=500").json().path("items")
                    .forEach(item -> actions.add(item.path("action").asString() + " " + item.path("outcome").asString()));
            assertThat(actions).contains("patient.legal-hold ALLOWED", "patient.legal-hold-release ALLOWED");
        });
    }

    @Test
    void a_browser_page_of_the_allowed_origin_may_call_the_api_and_read_the_tus_headers_and_others_may_not()
            throws Exception {
        String path = "/v1/patients/" + bobPatient + "/uploads";
        var preflight = preflight(path, TestStack.BROWSER_ORIGIN, "POST",
                "authorization,tus-resumable,upload-length,upload-metadata");
        assertThat(preflight.statusCode()).isEqualTo(200);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue(TestStack.BROWSER_ORIGIN);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods").orElse("")).contains("PATCH");
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase())
                .contains("upload-length", "upload-metadata", "tus-resumable", "authorization");
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();

        // the page's own request: answered with the headers a tus client reads, readable by the page
        HttpResponse<byte[]> created = Tus.send(stack.gateway, stack.token("bob"), "POST", path, null,
                "Upload-Length", "10", "Origin", TestStack.BROWSER_ORIGIN);
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.headers().firstValue("Access-Control-Allow-Origin")).hasValue(TestStack.BROWSER_ORIGIN);
        assertThat(created.headers().firstValue("Access-Control-Expose-Headers").orElse(""))
                .contains("Location", "Upload-Offset", "Upload-Expires", "Link");

        // a DICOMweb client in the page (dicomweb-client, OHIF) retrieving a study: its Accept has quotes
        var dicomweb = preflight("/v1/dicomweb/studies/1.2.3", TestStack.BROWSER_ORIGIN, "GET", "authorization,accept");
        assertThat(dicomweb.statusCode()).isEqualTo(200);
        assertThat(dicomweb.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase())
                .contains("accept", "authorization");

        var elsewhere = preflight(path, "https://attacker.example", "POST", "authorization,upload-length");
        assertThat(elsewhere.statusCode()).isEqualTo(403);
        assertThat(elsewhere.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        HttpResponse<byte[]> fromElsewhere = Tus.send(stack.gateway, stack.token("bob"), "POST", path, null,
                "Upload-Length", "10", "Origin", "https://attacker.example");
        assertThat(fromElsewhere.statusCode()).isEqualTo(403);
    }

    private static HttpResponse<byte[]> preflight(String path, String origin, String method, String headers)
            throws Exception {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build().send(
                HttpRequest.newBuilder(URI.create(stack.gateway.url() + path))
                        .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                        .header("Origin", origin).header("Access-Control-Request-Method", method)
                        .header("Access-Control-Request-Headers", headers).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void downloads_are_presigned_for_ten_minutes_and_only_after_the_check() {
        TestHttp.Answer download = bob.get("/v1/images/" + bobImage + "/content");
        assertThat(download.status()).isEqualTo(302);
        assertThat(download.header("Location")).contains("X-Amz-Expires=600");
        assertThat(alice.get("/v1/images/" + bobImage + "/content").header("Location")).isNull();
    }

    // --- audit

    @Test
    void the_audit_trail_records_allowed_and_denied_calls_for_auditors() {
        String allowedId = "audit-allowed-" + UUID.randomUUID();
        String deniedId = "audit-denied-" + UUID.randomUUID();
        String anonymousId = "audit-anon-" + UUID.randomUUID();
        String searchId = "audit-search-" + UUID.randomUUID();
        assertThat(send(alice, "/v1/images/" + aliceImage, allowedId)).isEqualTo(200);
        assertThat(send(alice, "/v1/images?patientId=" + alicePatient + "&q=scan", searchId)).isEqualTo(200);
        assertThat(send(alice, "/v1/images/" + bobImage + "/content", deniedId)).isEqualTo(404);
        assertThat(send(anonymous, "/v1/patients/" + bobPatient, anonymousId)).isEqualTo(401);

        // records are sent in batches, a moment after their calls
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            JsonNode alices = auditor.get("/v1/audit?actor=alice&limit=500").json();
            byRequest(alices, allowedId);
            byRequest(alices, deniedId);
            byRequest(alices, searchId);
            byRequest(auditor.get("/v1/audit?actor=anonymous&limit=500").json(), anonymousId);
            return true;
        });
        JsonNode trail = auditor.get("/v1/audit?actor=alice&limit=500").json();
        JsonNode allowed = byRequest(trail, allowedId);
        assertThat(allowed.path("action").asString()).isEqualTo("image.read");
        assertThat(allowed.path("outcome").asString()).isEqualTo("ALLOWED");
        assertThat(allowed.path("roles").asString()).isEqualTo("clinician");
        assertThat(allowed.path("patientId").asString()).isEqualTo(alicePatient);
        assertThat(allowed.path("resourceId").asString()).isEqualTo(aliceImage);
        assertThat(allowed.path("clientAddress").asString()).isEqualTo("127.0.0.1");
        assertThat(allowed.path("at").asString()).isNotEmpty();
        // a search scoped to one patient names that patient (and never its query)
        JsonNode search = byRequest(trail, searchId);
        assertThat(search.path("action").asString()).isEqualTo("image.search");
        assertThat(search.path("patientId").asString()).isEqualTo(alicePatient);
        assertThat(search.toString()).doesNotContain("scan");
        JsonNode denied = byRequest(trail, deniedId);
        assertThat(denied.path("action").asString()).isEqualTo("image.download");
        assertThat(denied.path("outcome").asString()).isEqualTo("DENIED");
        assertThat(denied.path("status").asInt()).isEqualTo(404);
        assertThat(denied.path("patientId").asString()).isEqualTo(bobPatient);

        JsonNode anon = byRequest(auditor.get("/v1/audit?actor=anonymous&limit=500").json(), anonymousId);
        assertThat(anon.path("outcome").asString()).isEqualTo("UNAUTHENTICATED");
        assertThat(anon.path("patientId").asString()).isEqualTo(bobPatient);

        // filters: by patient and action; no file names or tokens in any record
        JsonNode ofBob = auditor.get("/v1/audit?patientId=" + bobPatient + "&action=image.download&limit=500").json();
        assertThat(ofBob.path("items").size()).isPositive();
        ofBob.path("items").forEach(r -> assertThat(r.path("patientId").asString()).isEqualTo(bobPatient));
        String all = auditor.get("/v1/audit?limit=500").text();
        assertThat(all).doesNotContain("bob-scan.png", "alice-scan.png", stack.adminToken);
        assertThat(auditor.get("/v1/audit?from=not-a-time").status()).isEqualTo(400);
    }

    @Test
    void the_application_database_role_cannot_change_or_delete_audit_records() throws SQLException {
        String url = stack.postgres.jdbcUrl(TestStack.DATABASE);
        try (var app = DriverManager.getConnection(url, LocalPostgres.APP_ROLE, "");
             var statement = app.createStatement()) {
            try (var rs = statement.executeQuery("select count(*) from audit_log")) {
                assertThat(rs.next() && rs.getLong(1) > 0).isTrue();
            }
            assertThatThrownBy(() -> statement.executeUpdate("delete from audit_log")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("permission denied");
            assertThatThrownBy(() -> statement.executeUpdate("update audit_log set actor = 'nobody'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
            assertThatThrownBy(() -> statement.executeUpdate("truncate audit_log")).isInstanceOf(SQLException.class);
        }
        // not even the schema's owner deletes through the trigger
        try (var owner = DriverManager.getConnection(url, LocalPostgres.USER, "");
             var statement = owner.createStatement()) {
            assertThatThrownBy(() -> statement.executeUpdate("delete from audit_log")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("append-only");
        }
    }

    // --- helpers

    private static int send(TestHttp as, String path, String requestId) {
        return as.get(path, "X-Request-Id", requestId).status();
    }

    private static JsonNode byRequest(JsonNode page, String requestId) {
        for (JsonNode record : page.path("items")) {
            if (requestId.equals(record.path("requestId").asString())) {
                return record;
            }
        }
        throw new AssertionError("no audit record of request " + requestId + " in " + page);
    }

    private static List<String> ids(TestHttp.Answer answer, String field) {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        answer.json().path("items").forEach(item -> ids.add(item.path(field).asString()));
        return ids;
    }

    /** {@code alg: none}: claims that would pass, without a signature. */
    private static String unsigned() {
        return b64("{\"alg\":\"none\"}") + "." + b64(claims()) + ".";
    }

    /** Claims that would pass, signed with a key the issuer never published. */
    private static String forged() {
        try {
            var generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            var keys = generator.generateKeyPair();
            String signed = b64("{\"alg\":\"RS256\",\"typ\":\"JWT\"}") + "." + b64(claims());
            Signature rsa = Signature.getInstance("SHA256withRSA");
            rsa.initSign(keys.getPrivate());
            rsa.update(signed.getBytes(StandardCharsets.US_ASCII));
            return signed + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(rsa.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String claims() {
        long now = Instant.now().getEpochSecond();
        return "{\"iss\":\"" + stack.identity.url() + "\",\"sub\":\"admin\",\"aud\":[\"patient-images\"],"
                + "\"roles\":[\"admin\"],\"iat\":" + now + ",\"exp\":" + (now + 600) + "}";
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
