package org.patientimages.gateway.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Which tokens the gateway accepts: JWT access tokens of one OpenID Connect issuer (its keys found through
 * discovery, or at {@code jwkSetUri}), for {@code audience}, with the caller's roles in {@code rolesClaim}.
 *
 * @param clockSkew      how long after {@code exp} a token is still accepted (clocks differ a little)
 * @param allowedOrigins the web origins (scheme, host and port, such as {@code https://viewer.hospital.example})
 *                       whose pages may call the API from a browser (CORS); none by default
 */
@ConfigurationProperties("patient-images.security")
public record SecurityProperties(@DefaultValue("http://127.0.0.1:9790") URI issuerUri,
                                 URI jwkSetUri,
                                 @DefaultValue("patient-images") String audience,
                                 @DefaultValue("roles") String rolesClaim,
                                 @DefaultValue("30s") Duration clockSkew,
                                 List<String> allowedOrigins) {

    public SecurityProperties {
        allowedOrigins = allowedOrigins == null ? List.of() : List.copyOf(allowedOrigins);
    }
}
