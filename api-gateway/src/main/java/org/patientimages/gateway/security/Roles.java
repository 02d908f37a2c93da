package org.patientimages.gateway.security;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;

import java.util.stream.Collectors;

/**
 * The roles of the service. {@code admin}: everything. {@code clinician}: the patients granted to them (read,
 * upload, tag, delete). {@code auditor}: the audit trail only. {@code uploader}: machines that create patients,
 * upload and follow their jobs.
 */
public final class Roles {

    public static final String ADMIN = "admin";
    public static final String CLINICIAN = "clinician";
    public static final String AUDITOR = "auditor";
    public static final String UPLOADER = "uploader";

    private Roles() {
    }

    /** The caller's roles without Spring's {@code ROLE_} prefix, comma-separated. */
    public static String of(Authentication authentication) {
        if (authentication == null) {
            return "";
        }
        return authentication.getAuthorities().stream().map(GrantedAuthority::getAuthority)
                .filter(a -> a.startsWith("ROLE_")).map(a -> a.substring(5)).sorted().collect(Collectors.joining(","));
    }
}
