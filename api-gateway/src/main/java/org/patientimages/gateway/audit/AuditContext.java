package org.patientimages.gateway.audit;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * What the handling of one request learned for its audit record: the patient a resource belongs to, and
 * whether the metadata-service refused the caller access (a 404 that hides a denial).
 */
public final class AuditContext {

    static final String PATIENT = AuditContext.class.getName() + ".patient";
    static final String DENIED = AuditContext.class.getName() + ".denied";

    private AuditContext() {
    }

    /** The patient of the resource this request touched (the first one named wins). */
    public static void notePatient(String patientId) {
        RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
        if (attributes != null && patientId != null && !patientId.isEmpty()
                && attributes.getAttribute(PATIENT, RequestAttributes.SCOPE_REQUEST) == null) {
            attributes.setAttribute(PATIENT, patientId, RequestAttributes.SCOPE_REQUEST);
        }
    }

    public static void noteDenied() {
        RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
        if (attributes != null) {
            attributes.setAttribute(DENIED, Boolean.TRUE, RequestAttributes.SCOPE_REQUEST);
        }
    }
}
