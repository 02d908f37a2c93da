package org.patientimages.metadata.access;

import org.patientimages.metadata.web.ApiException;
import org.springframework.http.HttpStatus;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Who is asking, as the gateway names them in {@code X-Caller} and {@code X-Caller-Roles} after checking
 * their token. The internal API trusts these headers: it is bound to loopback and only the gateway calls it.
 * A call without them (the services themselves, operators on the host) is the system, which sees everything.
 */
public record Caller(String name, Set<String> roles) {

    public static final String NAME_HEADER = "X-Caller";
    public static final String ROLES_HEADER = "X-Caller-Roles";
    public static final Caller SYSTEM = new Caller("system", Set.of("system"));

    public static Caller of(String name, String roles) {
        if (name == null || name.isBlank()) {
            return SYSTEM;
        }
        return new Caller(name, roles == null ? Set.of() : Arrays.stream(roles.split(","))
                .map(String::strip).filter(r -> !r.isEmpty()).collect(Collectors.toUnmodifiableSet()));
    }

    /**
     * Whether this caller sees only the patients granted to them. Admins, machine uploaders and the system see
     * every patient (what each role may do at all is the gateway's check); anyone else only their grants.
     */
    public boolean restricted() {
        return !(roles.contains("admin") || roles.contains("uploader") || roles.contains("system"));
    }

    /** Whether the caller may restore and purge deleted images and patients, and list deleted images. */
    public boolean isAdmin() {
        return roles.contains("admin") || roles.contains("system");
    }

    /** {@code 403 FORBIDDEN} unless the caller is an admin. @param what what only admins may do */
    public void requireAdmin(String what) {
        if (!isAdmin()) {
            throw new ApiException(HttpStatus.FORBIDDEN, "FORBIDDEN", "Only admins may " + what + ".", false);
        }
    }

    /** Whether creating a patient grants it to its creator (a clinician sees the patients they register). */
    public boolean isClinician() {
        return roles.contains("clinician");
    }
}
