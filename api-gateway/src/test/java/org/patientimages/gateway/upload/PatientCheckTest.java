package org.patientimages.gateway.upload;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpStatus;
import org.springframework.security.authentication.TestingAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PatientCheckTest {

    private static final String PATIENT = "0b5e0f8e-4f6b-4d43-9d4a-0d2f6d7c1a11";

    private final List<String> asked = new ArrayList<>();
    private final Set<String> known = new java.util.HashSet<>(Set.of(PATIENT));
    private final AtomicLong nanos = new AtomicLong();
    private final PatientCheck check = new PatientCheck(this::lookup, Duration.ofSeconds(10), nanos::get);

    private JsonNode lookup(String patientId) {
        asked.add(patientId);
        if (!known.contains(patientId)) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, "PATIENT_NOT_FOUND", "No patient with id " + patientId + ".", false);
        }
        return JsonMapper.builder().build().createObjectNode().put("patientId", patientId);
    }

    private static void callerIs(String name, String... roles) {
        SecurityContextHolder.getContext().setAuthentication(new TestingAuthenticationToken(name, "n/a",
                java.util.Arrays.stream(roles).map(r -> "ROLE_" + r).toArray(String[]::new)));
    }

    @AfterEach
    void clearCaller() {
        SecurityContextHolder.clearContext();
    }

    @Test
    void a_yes_is_kept_for_the_same_caller_and_patient_until_it_expires() {
        callerIs("alice", "clinician");
        check.require(PATIENT);
        check.require(PATIENT);
        nanos.addAndGet(Duration.ofSeconds(9).toNanos());
        check.require(PATIENT);
        assertThat(asked).hasSize(1);

        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        check.require(PATIENT);
        assertThat(asked).hasSize(2);
    }

    @Test
    void another_caller_or_other_roles_are_checked_on_their_own() {
        callerIs("alice", "clinician");
        check.require(PATIENT);
        callerIs("bob", "clinician");
        check.require(PATIENT);
        callerIs("alice", "clinician", "admin");
        check.require(PATIENT);
        assertThat(asked).hasSize(3);
    }

    @Test
    void a_no_is_never_kept() {
        callerIs("alice", "clinician");
        String unknown = "5d7b1c2e-0000-4000-8000-000000000000";
        for (int i = 0; i < 2; i++) {
            assertThatThrownBy(() -> check.require(unknown)).isInstanceOf(ApiProblem.class)
                    .satisfies(e -> assertThat(((ApiProblem) e).code()).isEqualTo("PATIENT_NOT_FOUND"));
        }
        assertThat(asked).containsExactly(unknown, unknown);

        known.add(unknown); // granted meanwhile: the next upload passes at once
        check.require(unknown);
        assertThat(asked).hasSize(3);
    }

    @Test
    void a_zero_time_to_live_checks_every_upload() {
        PatientCheck everyTime = new PatientCheck(this::lookup, Duration.ZERO, nanos::get);
        callerIs("alice", "clinician");
        everyTime.require(PATIENT);
        everyTime.require(PATIENT);
        assertThat(asked).hasSize(2);
    }
}
