package org.patientimages.gateway.upload;

import org.patientimages.gateway.metadata.MetadataClient;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The gateway is UP only when it can accept uploads: the staging area is writable and has room, and uploads can be
 * recorded.
 */
@Component("uploads")
class UploadReadiness implements HealthIndicator {

    private final StagingArea staging;
    private final MetadataClient metadata;

    UploadReadiness(StagingArea staging, MetadataClient metadata) {
        this.staging = staging;
        this.metadata = metadata;
    }

    @Override
    public Health health() {
        if (!staging.isWritable()) {
            return Health.down().withDetail("reason", "staging area not writable").build();
        }
        if (!staging.hasRoomFor(0)) {
            return Health.down().withDetail("reason", "staging area below its minimum free space").build();
        }
        if (!metadata.isUp()) {
            return Health.down().withDetail("reason", "metadata-service unavailable").build();
        }
        return Health.up().build();
    }
}
