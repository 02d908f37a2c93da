package org.patientimages.metadata.audit;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Timestamps;

import java.time.Instant;
import java.util.UUID;

/**
 * One call on patient data: who (user name and roles), what (action, resource), when, from where, with which
 * outcome. Never health data, file names, tokens or URLs. {@code relatedPatientId}: a second patient the call
 * concerned (the one an image was moved away from).
 */
record AuditRecord(UUID id, Instant at, String actor, String roles, String action, String outcome, int status,
                   UUID patientId, String resourceType, String resourceId, String clientAddress, String requestId,
                   UUID relatedPatientId) {

    AuditRecord validated() {
        if (id == null || at == null || blank(actor) || roles == null || blank(action) || blank(outcome)) {
            throw ApiException.badRequest("INVALID_AUDIT_RECORD", "id, at, actor, roles, action and outcome are required.");
        }
        return this;
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    record View(String id, String at, String actor, String roles, String action, String outcome, int status,
                String patientId, String resourceType, String resourceId, String clientAddress, String requestId,
                String relatedPatientId) {
    }

    View view() {
        return new View(id.toString(), Timestamps.format(at), actor, roles, action, outcome, status, text(patientId),
                resourceType, resourceId, clientAddress, requestId, text(relatedPatientId));
    }

    private static String text(UUID id) {
        return id == null ? null : id.toString();
    }
}
