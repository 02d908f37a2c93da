package org.patientimages.gateway.upload;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import org.patientimages.gateway.audit.AuditContext;
import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.security.Roles;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.function.Function;

/**
 * The check before an upload's body is read: may the caller see this patient? Answered by the metadata-service
 * (its 404 reaches the client before a byte of the body is read), and a yes is then taken as known for
 * {@code patient-images.upload.patient-check-ttl} per caller, roles and patient, so that a series of uploads for
 * one patient costs one call, not one each. Only a yes is kept. It saves work, it decides nothing: the
 * metadata-service checks again when it registers the upload, so an upload after a grant was revoked or the
 * patient deleted still ends in 404 (after its body) and leaves nothing behind.
 */
@Component
class PatientCheck {

    private static final int MAX_ENTRIES = 10_000;

    private final Function<String, JsonNode> lookup;
    private final Cache<String, String> granted;

    @Autowired
    PatientCheck(MetadataClient metadata, UploadProperties properties) {
        this(patientId -> metadata.get("/internal/v1/patients/{id}", patientId), properties.patientCheckTtl(),
                Ticker.systemTicker());
    }

    PatientCheck(Function<String, JsonNode> lookup, Duration ttl, Ticker ticker) {
        this.lookup = lookup;
        this.granted = Caffeine.newBuilder().expireAfterWrite(ttl).maximumSize(MAX_ENTRIES).ticker(ticker).build();
    }

    /** Passes when the caller may see the patient; otherwise the metadata-service's problem (404) is thrown. */
    void require(String patientId) {
        Authentication caller = SecurityContextHolder.getContext().getAuthentication();
        String key = (caller == null ? "" : caller.getName() + "\n" + Roles.of(caller)) + "\n" + patientId;
        String known = granted.getIfPresent(key);
        if (known != null) {
            AuditContext.notePatient(known); // as the answer of the call would have
            return;
        }
        JsonNode patient = lookup.apply(patientId);
        granted.put(key, patient.path("patientId").asString(patientId));
    }
}
