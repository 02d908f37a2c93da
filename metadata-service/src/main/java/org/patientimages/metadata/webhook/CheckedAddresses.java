package org.patientimages.metadata.webhook;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Resolves a webhook's host for the connection itself and refuses it when any of its addresses is one a webhook
 * may not reach ({@link WebhookTarget#refusal(InetAddress, boolean)}). The addresses checked are the ones connected
 * to: a name whose DNS answer changes between a check and the connection (DNS rebinding) cannot slip past.
 */
final class CheckedAddresses implements DnsResolver {

    /** A host refused for its addresses; the message says why, in the words of a webhook's error. */
    static final class RefusedHostException extends UnknownHostException {
        RefusedHostException(String reason) {
            super(reason);
        }
    }

    private final DnsResolver dns;
    private final boolean allowLoopback;

    /**
     * @param dns           what answers for the names (the system's resolver in the service)
     * @param allowLoopback whether this host may be reached (a development stack)
     */
    CheckedAddresses(DnsResolver dns, boolean allowLoopback) {
        this.dns = dns;
        this.allowLoopback = allowLoopback;
    }

    CheckedAddresses(boolean allowLoopback) {
        this(SystemDefaultDnsResolver.INSTANCE, allowLoopback);
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] addresses = dns.resolve(host);
        for (InetAddress address : addresses) {
            String refusal = WebhookTarget.refusal(address, allowLoopback);
            if (refusal != null) {
                throw new RefusedHostException("the host's address " + refusal);
            }
        }
        return addresses;
    }

    @Override
    public String resolveCanonicalHostname(String host) throws UnknownHostException {
        return dns.resolveCanonicalHostname(host);
    }
}
