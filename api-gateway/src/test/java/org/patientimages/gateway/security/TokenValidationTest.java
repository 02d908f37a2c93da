package org.patientimages.gateway.security;

import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jwt.Jwt;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The claims a signed token must carry (signature and {@code alg} are checked before, by the decoder, and
 * end to end in SecurityIT with the real issuer).
 */
class TokenValidationTest {

    private static final String ISSUER = "https://login.hospital.example/realms/imaging";
    private final org.springframework.security.oauth2.core.OAuth2TokenValidator<Jwt> validator = SecurityConfig.tokenValidator(new SecurityProperties(URI.create(ISSUER), null,
            "patient-images", "roles", Duration.ofSeconds(30), null));

    private static Jwt.Builder token() {
        Instant now = Instant.now();
        return Jwt.withTokenValue("t").header("alg", "RS256").issuer(ISSUER).audience(List.of("patient-images"))
                .subject("alice").issuedAt(now).expiresAt(now.plusSeconds(300));
    }

    @Test
    void a_current_token_of_our_issuer_for_our_audience_passes() {
        assertThat(validator.validate(token().build()).hasErrors()).isFalse();
        assertThat(validator.validate(token().audience(List.of("other", "patient-images")).build()).hasErrors()).isFalse();
    }

    @Test
    void another_issuer_is_refused() {
        assertThat(validator.validate(token().issuer("https://evil.example").build()).hasErrors()).isTrue();
    }

    @Test
    void another_audience_or_none_is_refused() {
        assertThat(validator.validate(token().audience(List.of("billing")).build()).hasErrors()).isTrue();
        assertThat(validator.validate(token().claims(c -> c.remove("aud")).build()).hasErrors()).isTrue();
    }

    @Test
    void an_expired_token_is_refused_after_the_clock_skew() {
        Instant now = Instant.now();
        assertThat(validator.validate(token().issuedAt(now.minusSeconds(600)).expiresAt(now.minusSeconds(10)).build())
                .hasErrors()).as("within the 30 s skew").isFalse();
        assertThat(validator.validate(token().issuedAt(now.minusSeconds(600)).expiresAt(now.minusSeconds(31)).build())
                .hasErrors()).isTrue();
    }
}
