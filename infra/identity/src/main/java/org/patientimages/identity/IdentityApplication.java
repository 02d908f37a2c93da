package org.patientimages.identity;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;

import java.util.List;
import java.util.Map;

/**
 * A real OpenID Connect issuer for the dev stack and the tests (Spring Authorization Server). Its clients
 * come from {@code spring.security.oauth2.authorizationserver.client.*}; its users and the roles of its
 * service clients from {@code patient-images.identity.*}. Access tokens are JWTs for the audience
 * {@code patient-images} carrying a {@code roles} claim. Not for production: there the hospital's IdP issues
 * the tokens and the gateway only needs its issuer, audience and roles claim.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class IdentityApplication {

    /**
     * @param audience      the {@code aud} of every access token
     * @param users         user name → password and roles (passwords in Spring Security's {@code {id}} form)
     * @param clientRoles   client id → roles, for tokens a client gets for itself (client_credentials)
     * @param clientAudiences client id → the audience of its tokens, when not {@code audience} (a client of
     *                      another service)
     */
    @ConfigurationProperties("patient-images.identity")
    public record IdentityProperties(String audience, Map<String, DemoUser> users, Map<String, List<String>> clientRoles,
                                     Map<String, String> clientAudiences) {
        public IdentityProperties {
            users = users == null ? Map.of() : users;
            clientRoles = clientRoles == null ? Map.of() : clientRoles;
            clientAudiences = clientAudiences == null ? Map.of() : clientAudiences;
        }
    }

    public record DemoUser(String password, List<String> roles) {
    }

    public static void main(String[] args) {
        SpringApplication.run(IdentityApplication.class, args);
    }

    @Bean
    UserDetailsService users(IdentityProperties properties) {
        var manager = new InMemoryUserDetailsManager();
        properties.users().forEach((name, user) -> manager.createUser(User.withUsername(name)
                .password(user.password())
                .roles(user.roles().toArray(String[]::new))
                .build()));
        return manager;
    }

    /** Access tokens name the service as audience and carry the caller's roles. */
    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> accessTokenClaims(IdentityProperties properties) {
        return context -> {
            if (!OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                return;
            }
            var principal = context.getPrincipal();
            List<String> roles;
            if (context.getAuthorizationGrantType().getValue().equals("client_credentials")) {
                roles = properties.clientRoles().getOrDefault(context.getRegisteredClient().getClientId(), List.of());
            } else {
                roles = principal.getAuthorities().stream().map(GrantedAuthority::getAuthority)
                        .filter(a -> a.startsWith("ROLE_")).map(a -> a.substring(5)).toList();
                context.getClaims().claim("preferred_username", principal.getName());
            }
            String audience = properties.clientAudiences()
                    .getOrDefault(context.getRegisteredClient().getClientId(), properties.audience());
            context.getClaims().audience(List.of(audience)).claim("roles", roles);
        };
    }
}
