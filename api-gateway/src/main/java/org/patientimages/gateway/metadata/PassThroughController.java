package org.patientimages.gateway.metadata;

import org.patientimages.gateway.audit.AuditContext;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

import java.net.URI;

/** Patients, grants, jobs, the change feed, webhooks and the audit trail: the metadata-service's answers, unchanged. */
@RestController
class PassThroughController {

    private final MetadataClient metadata;

    PassThroughController(MetadataClient metadata) {
        this.metadata = metadata;
    }

    @PostMapping(path = "/v1/patients", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JsonNode> createPatient(@RequestBody JsonNode body) {
        JsonNode patient = metadata.post("/internal/v1/patients", body).getBody();
        return ResponseEntity.created(URI.create("/v1/patients/" + patient.path("patientId").asString())).body(patient);
    }

    @GetMapping("/v1/patients/{patientId}")
    JsonNode patient(@PathVariable String patientId) {
        return metadata.get("/internal/v1/patients/{id}", patientId);
    }

    @PatchMapping(path = "/v1/patients/{patientId}", consumes = MediaType.APPLICATION_JSON_VALUE)
    JsonNode updatePatient(@PathVariable String patientId, @RequestBody JsonNode body) {
        return metadata.exchange(HttpMethod.PATCH, "/internal/v1/patients/{id}", body, patientId).getBody();
    }

    @DeleteMapping("/v1/patients/{patientId}")
    ResponseEntity<Void> deletePatient(@PathVariable String patientId,
                                       @RequestParam(defaultValue = "false") boolean cascade,
                                       @RequestParam(defaultValue = "false") boolean purge) {
        metadata.exchange(HttpMethod.DELETE, "/internal/v1/patients/{id}?cascade={cascade}&purge={purge}", null,
                patientId, cascade, purge);
        return ResponseEntity.noContent().build();
    }

    /** Puts the patient under a legal hold (admins): its images can be neither deleted, purged nor moved away. */
    @PutMapping(path = "/v1/patients/{patientId}/legal-hold", consumes = MediaType.APPLICATION_JSON_VALUE)
    JsonNode hold(@PathVariable String patientId, @RequestBody JsonNode body) {
        return metadata.exchange(HttpMethod.PUT, "/internal/v1/patients/{id}/legal-hold", body, patientId).getBody();
    }

    @DeleteMapping("/v1/patients/{patientId}/legal-hold")
    ResponseEntity<Void> release(@PathVariable String patientId) {
        metadata.exchange(HttpMethod.DELETE, "/internal/v1/patients/{id}/legal-hold", null, patientId);
        return ResponseEntity.noContent().build();
    }

    /**
     * Merges a patient registered twice into the other (admins): its images and jobs become the other's. The audit
     * record names the patient merged away and, as its related patient, the one merged into.
     */
    @PostMapping(path = "/v1/patients/{patientId}/merge", consumes = MediaType.APPLICATION_JSON_VALUE)
    JsonNode merge(@PathVariable String patientId, @RequestBody JsonNode body) {
        AuditContext.noteRelatedPatient(body.path("into").isString() ? body.path("into").asString() : null);
        return metadata.exchange(HttpMethod.POST, "/internal/v1/patients/{id}/merge", body, patientId).getBody();
    }

    /**
     * Undoes a merge made by mistake (admins): the patient merged away is back with the images the merge moved. The
     * audit record names it and, as its related patient, the one the images came back from.
     */
    @PostMapping("/v1/patients/{patientId}/unmerge")
    JsonNode unmerge(@PathVariable String patientId) {
        ResponseEntity<JsonNode> answer = metadata.exchange(HttpMethod.POST, "/internal/v1/patients/{id}/unmerge", null,
                patientId);
        AuditContext.noteRelatedPatient(answer.getHeaders().getFirst("X-Unmerged-From"));
        return answer.getBody();
    }

    /** Restores a deleted patient in its recovery window, with the images deleted with it (admins). */
    @PostMapping("/v1/patients/{patientId}/restore")
    JsonNode restorePatient(@PathVariable String patientId) {
        return metadata.exchange(HttpMethod.POST, "/internal/v1/patients/{id}/restore", null, patientId).getBody();
    }

    @GetMapping("/v1/patients")
    JsonNode patients(@RequestParam MultiValueMap<String, String> query) {
        return metadata.page("/internal/v1/patients", query);
    }

    @GetMapping("/v1/patients/{patientId}/grants")
    JsonNode grants(@PathVariable String patientId) {
        return metadata.get("/internal/v1/patients/{id}/grants", patientId);
    }

    @PutMapping("/v1/patients/{patientId}/grants/{username}")
    JsonNode grant(@PathVariable String patientId, @PathVariable String username) {
        return metadata.exchange(HttpMethod.PUT, "/internal/v1/patients/{id}/grants/{username}", null, patientId,
                username).getBody();
    }

    @DeleteMapping("/v1/patients/{patientId}/grants/{username}")
    ResponseEntity<Void> revoke(@PathVariable String patientId, @PathVariable String username) {
        metadata.exchange(HttpMethod.DELETE, "/internal/v1/patients/{id}/grants/{username}", null, patientId, username);
        return ResponseEntity.noContent().build();
    }

    /** The audit trail, newest first: for auditors and admins. */
    @GetMapping("/v1/audit")
    JsonNode audit(@RequestParam MultiValueMap<String, String> query) {
        return metadata.page("/internal/v1/audit", query);
    }

    @GetMapping("/v1/jobs/{jobId}")
    JsonNode job(@PathVariable String jobId) {
        return metadata.get("/internal/v1/jobs/{id}", jobId);
    }

    /** Jobs newest first, by status and/or patient (the metadata-service checks the filter). */
    @GetMapping("/v1/jobs")
    JsonNode jobs(@RequestParam MultiValueMap<String, String> query) {
        return metadata.page("/internal/v1/jobs", query);
    }

    /** Cancels a job that has not ended; its image is deleted. */
    @PostMapping("/v1/jobs/{jobId}/cancel")
    JsonNode cancelJob(@PathVariable String jobId) {
        return metadata.exchange(HttpMethod.POST, "/internal/v1/jobs/{id}/cancel", null, jobId).getBody();
    }

    /**
     * Runs a job again that failed for a passing cause, from the bytes the service kept: 202 with the new job and
     * its {@code Location}; the same job with {@code Idempotent-Replayed: true} when it was retried before.
     */
    @PostMapping("/v1/jobs/{jobId}/retry")
    ResponseEntity<JsonNode> retryJob(@PathVariable String jobId) {
        ResponseEntity<JsonNode> retried = metadata.exchange(HttpMethod.POST, "/internal/v1/jobs/{id}/retry", null, jobId);
        var answer = ResponseEntity.accepted().location(URI.create("/v1/jobs/" + retried.getBody().path("jobId").asString()));
        if (retried.getStatusCode().value() == 200) {
            answer.header("Idempotent-Replayed", "true");
        }
        return answer.body(retried.getBody());
    }

    /**
     * Retries every job that can be retried (failed for a passing cause, within the retry window), up to
     * {@code limit} of them, oldest failure first: for an operator once the object store is back after an outage.
     */
    @PostMapping("/v1/jobs/retry-failed")
    JsonNode retryFailedJobs(@RequestParam(required = false) String limit) {
        return limit == null ? metadata.exchange(HttpMethod.POST, "/internal/v1/jobs/retry-failed", null).getBody()
                : metadata.exchange(HttpMethod.POST, "/internal/v1/jobs/retry-failed?limit={limit}", null, limit).getBody();
    }

    /** A patient's DICOM studies and their series, newest first. */
    @GetMapping("/v1/patients/{patientId}/studies")
    JsonNode studies(@PathVariable String patientId, @RequestParam MultiValueMap<String, String> query) {
        return metadata.page("/internal/v1/patients/{id}/studies", query, patientId);
    }

    /** The feed of image changes (available, updated, deleted), to follow with the cursor it answers. */
    @GetMapping("/v1/changes")
    JsonNode changes(@RequestParam MultiValueMap<String, String> query) {
        return metadata.page("/internal/v1/changes", query);
    }

    /** Registers a webhook (admins): sent the change feed from now on; the answer alone carries its secret. */
    @PostMapping(path = "/v1/webhooks", consumes = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<JsonNode> createWebhook(@RequestBody JsonNode body) {
        JsonNode webhook = metadata.post("/internal/v1/webhooks", body).getBody();
        return ResponseEntity.created(URI.create("/v1/webhooks/" + webhook.path("webhookId").asString())).body(webhook);
    }

    @GetMapping("/v1/webhooks")
    JsonNode webhooks() {
        return metadata.get("/internal/v1/webhooks");
    }

    /** A webhook and how its deliveries go. */
    @GetMapping("/v1/webhooks/{webhookId}")
    JsonNode webhook(@PathVariable String webhookId) {
        return metadata.get("/internal/v1/webhooks/{id}", webhookId);
    }

    /** A new secret for the webhook, shown this once; the replaced one keeps signing beside it for a day. */
    @PostMapping("/v1/webhooks/{webhookId}/rotate-secret")
    JsonNode rotateWebhookSecret(@PathVariable String webhookId) {
        return metadata.exchange(HttpMethod.POST, "/internal/v1/webhooks/{id}/rotate-secret", null, webhookId).getBody();
    }

    /** Sends the webhook a signed test request at once and answers how its receiver took it. */
    @PostMapping("/v1/webhooks/{webhookId}/test")
    JsonNode testWebhook(@PathVariable String webhookId) {
        return metadata.exchange(HttpMethod.POST, "/internal/v1/webhooks/{id}/test", null, webhookId).getBody();
    }

    /** Sends again at once: a failing webhook without its backoff, a disabled one from the feed's oldest change. */
    @PostMapping("/v1/webhooks/{webhookId}/resume")
    JsonNode resumeWebhook(@PathVariable String webhookId) {
        return metadata.exchange(HttpMethod.POST, "/internal/v1/webhooks/{id}/resume", null, webhookId).getBody();
    }

    @DeleteMapping("/v1/webhooks/{webhookId}")
    ResponseEntity<Void> deleteWebhook(@PathVariable String webhookId) {
        metadata.exchange(HttpMethod.DELETE, "/internal/v1/webhooks/{id}", null, webhookId);
        return ResponseEntity.noContent().build();
    }

    @GetMapping("/v1/jobs/{jobId}/events")
    JsonNode jobEvents(@PathVariable String jobId, @RequestParam MultiValueMap<String, String> query) {
        return metadata.page("/internal/v1/jobs/{id}/events", query, jobId);
    }
}
