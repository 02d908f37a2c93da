package org.patientimages.gateway.metadata;

import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.time.Duration;

/** A {@link MetadataClient} for tests of other packages. */
public final class MetadataClients {

    private MetadataClients() {
    }

    public static MetadataClient at(URI url, Duration readTimeout) {
        return new MetadataClient(new MetadataClient.MetadataProperties(url, Duration.ofSeconds(2), readTimeout),
                JsonMapper.builder().build());
    }
}
