package org.patientimages.gateway.security;

import org.springframework.core.convert.converter.Converter;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

import java.util.List;

/** The caller of a token: {@code preferred_username} (users) or {@code sub} (machines), with the token's roles. */
final class TokenAuthentication implements Converter<Jwt, AbstractAuthenticationToken> {

    private final String rolesClaim;

    TokenAuthentication(String rolesClaim) {
        this.rolesClaim = rolesClaim;
    }

    @Override
    public AbstractAuthenticationToken convert(Jwt jwt) {
        List<String> roles = jwt.hasClaim(rolesClaim) ? jwt.getClaimAsStringList(rolesClaim) : List.of();
        String name = jwt.hasClaim("preferred_username") ? jwt.getClaimAsString("preferred_username") : jwt.getSubject();
        return new JwtAuthenticationToken(jwt, roles.stream().map(r -> new SimpleGrantedAuthority("ROLE_" + r)).toList(),
                name);
    }
}
