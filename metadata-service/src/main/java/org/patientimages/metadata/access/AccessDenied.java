package org.patientimages.metadata.access;

import org.patientimages.metadata.web.ApiException;
import org.springframework.http.HttpStatus;

import java.util.UUID;

/**
 * The caller may not see this patient: answered exactly like a resource that does not exist (404 with the
 * same code and detail), so ids leak nothing. Only the internal headers tell the gateway's audit trail that
 * it was a denial, and whose patient it was.
 */
public class AccessDenied extends ApiException {

    public static final String DENIED_HEADER = "X-Access-Denied";
    public static final String PATIENT_HEADER = "X-Patient-Id";

    private final UUID patientId;

    public AccessDenied(ApiException notFound, UUID patientId) {
        super(HttpStatus.NOT_FOUND, notFound.code(), notFound.getMessage(), false);
        this.patientId = patientId;
    }

    public UUID patientId() {
        return patientId;
    }
}
