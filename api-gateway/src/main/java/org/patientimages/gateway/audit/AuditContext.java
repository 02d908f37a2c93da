package org.patientimages.gateway.audit;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * What the handling of one request learned for its audit record: the patient a resource belongs to, a second
 * patient it concerned, and whether the metadata-service refused the caller access (a 404 that hides a denial).
 */
public final class AuditContext {

    static final String PATIENT = AuditContext.class.getName() + ".patient";
    static final String DENIED = AuditContext.class.getName() + ".denied";
    static final String RELATED_PATIENT = AuditContext.class.getName() + ".relatedPatient";

    private AuditContext() {
    }

    /** The patient of the resource this request touched (the first one named wins). */
    public static void notePatient(String patientId) {
        note(PATIENT, patientId);
    }

    /** A second patient the request concerned (the one an image was moved away from). */
    public static void noteRelatedPatient(String patientId) {
        note(RELATED_PATIENT, patientId);
    }

    /** Keeps a patient id under {@code name} for the request, unless one is kept there already. */
    private static void note(String name, String patientId) {
        RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
        if (attributes != null && patientId != null && !patientId.isEmpty()
                && attributes.getAttribute(name, RequestAttributes.SCOPE_REQUEST) == null) {
            attributes.setAttribute(name, patientId, RequestAttributes.SCOPE_REQUEST);
        }
    }

    public static void noteDenied() {
        RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
        if (attributes != null) {
            attributes.setAttribute(DENIED, Boolean.TRUE, RequestAttributes.SCOPE_REQUEST);
        }
    }
}
