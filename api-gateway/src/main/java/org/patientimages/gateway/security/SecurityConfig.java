package org.patientimages.gateway.security;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.patientimages.gateway.audit.AuditFilter;
import org.patientimages.gateway.audit.AuditTrail;
import org.springframework.boot.security.autoconfigure.actuate.web.servlet.EndpointRequest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtDecoders;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.SupplierJwtDecoder;
import org.springframework.security.oauth2.server.resource.web.BearerTokenAuthenticationEntryPoint;
import org.springframework.security.oauth2.server.resource.web.access.BearerTokenAccessDeniedHandler;
import org.springframework.security.oauth2.server.resource.web.authentication.BearerTokenAuthenticationFilter;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.patientimages.gateway.security.Roles.ADMIN;
import static org.patientimages.gateway.security.Roles.AUDITOR;
import static org.patientimages.gateway.security.Roles.CLINICIAN;
import static org.patientimages.gateway.security.Roles.UPLOADER;

/**
 * The public API is an OAuth2 resource server: every {@code /v1/**} call carries a bearer JWT of the configured
 * issuer and audience, or gets 401. Which role may call what is decided here; which patients a caller may see
 * is the metadata-service's check (the gateway names the caller on every internal call).
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfig {

    @Bean
    SecurityFilterChain api(HttpSecurity http, JsonMapper json, AuditTrail auditTrail, SecurityProperties properties) {
        var bearer = new BearerTokenAuthenticationEntryPoint();
        var deniedHandler = new BearerTokenAccessDeniedHandler();
        AuthenticationEntryPoint unauthenticated = (request, response, e) -> {
            bearer.commence(request, response, e);
            problem(json, request, response, "UNAUTHENTICATED", "Send a valid bearer access token of the service's issuer.");
        };
        http.csrf(csrf -> csrf.disable())
                .cors(cors -> cors.configurationSource(browserOrigins(properties)))
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .authorizeHttpRequests(a -> a
                        // the management port is bound to loopback (management.server.address)
                        .requestMatchers(EndpointRequest.toAnyEndpoint()).permitAll()
                        .requestMatchers("/v3/api-docs", "/v3/api-docs/**", "/swagger-ui.html", "/swagger-ui/**",
                                "/openapi.yaml", "/error").permitAll()
                        .requestMatchers("/v1/audit", "/v1/audit/**").hasAnyRole(AUDITOR, ADMIN)
                        .requestMatchers("/v1/patients/*/grants", "/v1/patients/*/grants/**", "/v1/patients/*/legal-hold",
                                "/v1/patients/*/merge", "/v1/patients/*/unmerge", "/v1/webhooks", "/v1/webhooks/**",
                                "/v1/storage/**")
                        .hasRole(ADMIN)
                        .requestMatchers(HttpMethod.POST, "/v1/patients", "/v1/patients/*/images",
                                "/v1/patients/*/images/archive", "/v1/patients/*/uploads",
                                "/v1/patients/*/dicomweb/studies", "/v1/dicomweb/studies")
                        .hasAnyRole(ADMIN, CLINICIAN, UPLOADER)
                        .requestMatchers("/v1/uploads/*").hasAnyRole(ADMIN, CLINICIAN, UPLOADER)
                        .requestMatchers(HttpMethod.GET, "/v1/jobs").hasAnyRole(ADMIN, CLINICIAN)
                        .requestMatchers(HttpMethod.GET, "/v1/jobs/**").hasAnyRole(ADMIN, CLINICIAN, UPLOADER)
                        .requestMatchers(HttpMethod.POST, "/v1/jobs/retry-failed").hasRole(ADMIN)
                        .requestMatchers(HttpMethod.POST, "/v1/jobs/*/cancel", "/v1/jobs/*/retry").hasAnyRole(ADMIN, CLINICIAN, UPLOADER)
                        .requestMatchers(HttpMethod.DELETE, "/v1/patients/*").hasRole(ADMIN)
                        .requestMatchers(HttpMethod.POST, "/v1/images/*/integrity-checks", "/v1/images/*/restore",
                                "/v1/images/*/derivations", "/v1/images/derivations", "/v1/patients/*/restore")
                        .hasRole(ADMIN)
                        .requestMatchers("/v1/**").hasAnyRole(ADMIN, CLINICIAN)
                        .anyRequest().authenticated())
                .oauth2ResourceServer(o -> o
                        .jwt(jwt -> jwt.jwtAuthenticationConverter(new TokenAuthentication(properties.rolesClaim())))
                        .authenticationEntryPoint(unauthenticated)
                        .accessDeniedHandler((request, response, e) -> {
                            deniedHandler.handle(request, response, e);
                            problem(json, request, response, "FORBIDDEN",
                                    "Your role may not make this call.");
                        }))
                .exceptionHandling(e -> e.authenticationEntryPoint(unauthenticated))
                // the audit filter sees every /v1 call, the refused ones too, with the caller once known
                .addFilterBefore(new AuditFilter(auditTrail), BearerTokenAuthenticationFilter.class);
        return http.build();
    }

    /**
     * Browser pages of the configured origins may call {@code /v1/**} (CORS), with the headers the API, tus and
     * DICOMweb clients send and read; no cookies (the API takes bearer tokens). A preflight is answered before any
     * token is asked for; one from another origin is refused (403). With no origin configured, there is no CORS at
     * all.
     */
    static CorsConfigurationSource browserOrigins(SecurityProperties properties) {
        UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
        if (!properties.allowedOrigins().isEmpty()) {
            CorsConfiguration cors = new CorsConfiguration();
            cors.setAllowedOrigins(properties.allowedOrigins());
            cors.setAllowedMethods(List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"));
            // Accept too: a DICOMweb client's (multipart/related; type="application/dicom") is not one a browser
            // sends without asking, as it has quotes
            cors.setAllowedHeaders(List.of("Authorization", "Accept", "Content-Type", "Idempotency-Key",
                    "X-Request-Id", "Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Offset",
                    "Upload-Checksum", "X-HTTP-Method-Override"));
            cors.setExposedHeaders(List.of("Location", "Link", "Retry-After", "Idempotent-Replayed", "X-Request-Id",
                    "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm",
                    "Upload-Offset", "Upload-Length", "Upload-Expires"));
            cors.setAllowCredentials(false);
            cors.setMaxAge(Duration.ofHours(1));
            source.registerCorsConfiguration("/v1/**", cors);
        }
        return source;
    }

    /**
     * Tokens of the configured issuer only, signed with one of its published keys (never {@code alg: none}),
     * for our audience, not expired. Built on first use, so the gateway starts before the issuer answers.
     */
    @Bean
    JwtDecoder jwtDecoder(SecurityProperties properties) {
        return new SupplierJwtDecoder(() -> {
            NimbusJwtDecoder decoder = properties.jwkSetUri() != null
                    ? NimbusJwtDecoder.withJwkSetUri(properties.jwkSetUri().toString()).build()
                    : (NimbusJwtDecoder) JwtDecoders.fromIssuerLocation(properties.issuerUri().toString());
            decoder.setJwtValidator(tokenValidator(properties));
            return decoder;
        });
    }

    /** A signed token passes only when it is current, from our issuer and for our audience. */
    static OAuth2TokenValidator<Jwt> tokenValidator(SecurityProperties properties) {
        return new DelegatingOAuth2TokenValidator<>(
                new JwtTimestampValidator(properties.clockSkew()),
                new JwtIssuerValidator(properties.issuerUri().toString()),
                new JwtClaimValidator<Collection<String>>("aud", aud -> aud != null && aud.contains(properties.audience())));
    }

    private static void problem(JsonMapper json, HttpServletRequest request, HttpServletResponse response, String code,
                                String detail) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "https://patient-images.example/problems/" + code.toLowerCase().replace('_', '-'));
        body.put("title", response.getStatus() == 401 ? "Unauthorized" : "Forbidden");
        body.put("status", response.getStatus());
        body.put("detail", detail);
        body.put("instance", request.getRequestURI());
        body.put("code", code);
        body.put("retryable", false);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), body);
    }
}
