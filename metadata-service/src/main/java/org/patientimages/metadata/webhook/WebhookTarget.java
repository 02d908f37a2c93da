package org.patientimages.metadata.webhook;

import org.patientimages.metadata.web.ApiException;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Where a webhook may send. An absolute {@code http} or {@code https} URL without credentials or fragment, whose
 * host is not this machine (unless allowed, for a development stack), nor a link-local address (such as a cloud's
 * instance metadata at 169.254.169.254), nor a wildcard or multicast one: a webhook must not become a way to
 * call the services' internal API, which trusts calls from the loopback interface. A name is checked by the
 * addresses it resolves to as it is connected to ({@link CheckedAddresses}).
 */
final class WebhookTarget {

    static final int MAX_LENGTH = 2000;

    private WebhookTarget() {
    }

    /** The URL, checked; {@code 400 INVALID_WEBHOOK} otherwise. */
    static URI parse(String url, boolean allowLoopback) {
        if (url == null || url.isBlank() || url.length() > MAX_LENGTH) {
            throw invalid("url is required, at most " + MAX_LENGTH + " characters.");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw invalid("url is not a URL: " + e.getReason() + ".");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
            throw invalid("url must be an absolute http or https URL with a host.");
        }
        if (uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
            throw invalid("url may have neither credentials nor a fragment; authenticate requests by their signature.");
        }
        String host = uri.getHost();
        if (host.equalsIgnoreCase("localhost") && !allowLoopback) {
            throw invalid("url may not name this host.");
        }
        if (isLiteral(host)) {
            try {
                String refusal = refusal(InetAddress.getByName(host), allowLoopback);
                if (refusal != null) {
                    throw invalid("url " + refusal + ".");
                }
            } catch (UnknownHostException e) {
                throw invalid("url has a host that is not an address.");
            }
        }
        return uri;
    }

    /** Why a request may not go to this address, or null when it may. */
    static String refusal(InetAddress address, boolean allowLoopback) {
        if (address.isLoopbackAddress() && !allowLoopback) {
            return "may not name this host";
        }
        if (address.isLinkLocalAddress() || address.isAnyLocalAddress() || address.isMulticastAddress()) {
            return "may not name a link-local, wildcard or multicast address";
        }
        return null;
    }

    private static boolean isLiteral(String host) {
        return host.startsWith("[") || host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
    }

    private static ApiException invalid(String detail) {
        return ApiException.badRequest("INVALID_WEBHOOK", detail);
    }
}
