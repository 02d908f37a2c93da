package org.patientimages.gateway.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.net.URI;
import java.time.Duration;

/**
 * Which tokens the gateway accepts: JWT access tokens of one OpenID Connect issuer (its keys found through
 * discovery, or at {@code jwkSetUri}), for {@code audience}, with the caller's roles in {@code rolesClaim}.
 *
 * @param clockSkew how long after {@code exp} a token is still accepted (clocks differ a little)
 */
@ConfigurationProperties("patient-images.security")
public record SecurityProperties(@DefaultValue("http://127.0.0.1:9790") URI issuerUri,
                                 URI jwkSetUri,
                                 @DefaultValue("patient-images") String audience,
                                 @DefaultValue("roles") String rolesClaim,
                                 @DefaultValue("30s") Duration clockSkew) {
}
