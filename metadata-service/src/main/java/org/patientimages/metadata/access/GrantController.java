package org.patientimages.metadata.access;

import org.patientimages.metadata.patient.PatientRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/** A patient's grants: which users (clinicians) may see it. Only admins reach this (the gateway's check). */
@RestController
@RequestMapping("/internal/v1/patients/{patientId}/grants")
class GrantController {

    /** A user name as identity providers issue them: letters, digits and {@code . _ @ -}. */
    private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._@-]{1,128}");

    private final PatientAccess access;
    private final PatientRepository patients;

    GrantController(PatientAccess access, PatientRepository patients) {
        this.access = access;
        this.patients = patients;
    }

    record GrantView(String patientId, String username, String grantedBy, String grantedAt) {
    }

    @GetMapping
    Map<String, List<GrantView>> list(@PathVariable String patientId) {
        UUID id = patient(patientId);
        return Map.of("items", access.grants(id).stream()
                .map(g -> new GrantView(patientId, g.username(), g.grantedBy(), Timestamps.format(g.grantedAt())))
                .toList());
    }

    /** Idempotent: granting twice leaves one grant (the first one's author and time). */
    @PutMapping("/{username}")
    GrantView grant(@PathVariable String patientId, @PathVariable String username, Caller caller) {
        UUID id = patient(patientId);
        access.grant(id, validated(username), caller.name());
        return access.grants(id).stream().filter(g -> g.username().equals(username)).findFirst()
                .map(g -> new GrantView(patientId, g.username(), g.grantedBy(), Timestamps.format(g.grantedAt())))
                .orElseThrow();
    }

    @DeleteMapping("/{username}")
    ResponseEntity<Void> revoke(@PathVariable String patientId, @PathVariable String username) {
        if (!access.revoke(patient(patientId), validated(username))) {
            throw ApiException.notFound("GRANT_NOT_FOUND", "User '" + username + "' has no grant for this patient.");
        }
        return ResponseEntity.noContent().build();
    }

    private UUID patient(String patientId) {
        return Ids.parse(patientId).filter(patients::exists)
                .orElseThrow(() -> ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + patientId + "."));
    }

    private static String validated(String username) {
        if (!USERNAME.matcher(username).matches()) {
            throw ApiException.badRequest("INVALID_USERNAME",
                    "username must be 1-128 letters, digits, '.', '_', '@' or '-'.");
        }
        return username;
    }
}
