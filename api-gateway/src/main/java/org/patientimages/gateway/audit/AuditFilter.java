package org.patientimages.gateway.audit;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.patientimages.gateway.security.Roles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * One audit record per public call on patient data, written after the call, whatever its outcome: who (user
 * and roles, or {@code anonymous}), the action and resource, the patient when known, the outcome, the time,
 * the client's address and the request id. Records go to the metadata-service in batches ({@link AuditTrail}),
 * which keeps them append-only.
 * Also gives every request an id ({@code X-Request-Id}, the client's if it sent a plain one), put in the logs
 * and passed on to the metadata-service.
 */
public class AuditFilter extends OncePerRequestFilter {

    public static final String REQUEST_ID_HEADER = "X-Request-Id";
    public static final String REQUEST_ID_MDC = "requestId";

    private static final Logger log = LoggerFactory.getLogger(AuditFilter.class);
    private static final Pattern PLAIN_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern DICOM_UID = Pattern.compile("/[0-9]+(\\.[0-9]+)+(?=/|$)");

    private final AuditTrail trail;

    public AuditFilter(AuditTrail trail) {
        this.trail = trail;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String requestId = request.getHeader(REQUEST_ID_HEADER);
        if (requestId == null || !PLAIN_ID.matcher(requestId).matches()) {
            requestId = UUID.randomUUID().toString();
        }
        response.setHeader(REQUEST_ID_HEADER, requestId);
        MDC.put(REQUEST_ID_MDC, requestId);
        Instant at = Instant.now();
        long started = System.nanoTime();
        try {
            chain.doFilter(request, response);
        } finally {
            try {
                if (request.getRequestURI().startsWith("/v1/")) {
                    // one line per request: ids only, never the query (a search may hold a name)
                    log.info("{} {} {} {} ms", request.getMethod(), logged(request.getRequestURI()),
                            response.getStatus(), (System.nanoTime() - started) / 1_000_000);
                    record(request, response, at, requestId);
                }
            } finally {
                MDC.remove(REQUEST_ID_MDC);
            }
        }
    }

    private void record(HttpServletRequest request, HttpServletResponse response, Instant at, String requestId) {
        Authentication caller = SecurityContextHolder.getContext().getAuthentication();
        boolean authenticated = caller != null && caller.isAuthenticated() && !"anonymousUser".equals(caller.getName());
        AuditActions.Match match = AuditActions.match(request.getMethod(), request.getRequestURI(),
                request::getParameter);
        int status = response.getStatus();
        boolean denied = Boolean.TRUE.equals(request.getAttribute(AuditContext.DENIED));
        String patientId = match.patientId() != null ? match.patientId() : (String) request.getAttribute(AuditContext.PATIENT);
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("id", UUID.randomUUID());
        record.put("at", at.toString());
        record.put("actor", authenticated ? caller.getName() : "anonymous");
        record.put("roles", authenticated ? Roles.of(caller) : "");
        record.put("action", match.action().name());
        record.put("outcome", outcome(status, denied));
        record.put("status", status);
        record.put("patientId", isId(patientId) ? patientId : null);
        record.put("resourceType", match.action().resourceType());
        record.put("resourceId", match.resourceId());
        record.put("clientAddress", request.getRemoteAddr());
        record.put("requestId", requestId);
        String related = (String) request.getAttribute(AuditContext.RELATED_PATIENT);
        record.put("relatedPatientId", isId(related) ? related : null);
        trail.append(record);
    }

    /** ALLOWED, DENIED (no grant, shown as 404), FORBIDDEN (role), UNAUTHENTICATED, NOT_FOUND, REJECTED, FAILED. */
    static String outcome(int status, boolean denied) {
        if (denied) {
            return "DENIED";
        }
        if (status == 401) {
            return "UNAUTHENTICATED";
        }
        if (status == 403) {
            return "FORBIDDEN";
        }
        if (status == 404) {
            return "NOT_FOUND";
        }
        if (status >= 500) {
            return "FAILED";
        }
        return status >= 400 ? "REJECTED" : "ALLOWED";
    }

    /** Only well-formed ids reach the audit log's patient column. */
    private static boolean isId(String value) {
        try {
            return value != null && value.length() == 36 && UUID.fromString(value) != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * A path as the log shows it: the service's own ids, but not a DICOM UID (a DICOMweb path names studies, series
     * and instances by theirs, which an uploader's equipment made and may carry dates or serial numbers).
     */
    static String logged(String path) {
        return path.contains("/dicomweb/") ? DICOM_UID.matcher(path).replaceAll("/{uid}") : path;
    }
}
