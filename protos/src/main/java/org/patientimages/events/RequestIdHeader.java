package org.patientimages.events;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;

/**
 * The Kafka header {@value #NAME}: the id of the API request a record comes from, carried from the gateway
 * through every topic so that each service's log lines of a job name it.
 */
public final class RequestIdHeader {

    public static final String NAME = "request-id";

    private RequestIdHeader() {
    }

    /** Adds the header; nothing when there is no request id. */
    public static void put(Headers headers, String requestId) {
        if (requestId != null) {
            headers.add(NAME, requestId.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The request id of a record; null when it has none. */
    public static String of(Headers headers) {
        Header header = headers.lastHeader(NAME);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
