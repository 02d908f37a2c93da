package org.patientimages.gateway.upload;

import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.web.ApiProblem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.time.Clock;

/**
 * Removes staged files nobody will read: half-written ones (the request died mid-stream, or the gateway
 * did) and complete ones whose job ended or was never recorded (the gateway died between staging and
 * recording). Only files untouched for the grace period are looked at; a file whose job is still queued
 * or running stays, and so does one whose job failed for a passing cause until its retry window closes.
 */
@Component
class StagingSweeper {

    private static final Logger log = LoggerFactory.getLogger(StagingSweeper.class);

    private final StagingArea staging;
    private final MetadataClient metadata;
    private final StagingArea.StagingProperties properties;
    private final Clock clock;

    StagingSweeper(StagingArea staging, MetadataClient metadata, StagingArea.StagingProperties properties) {
        this.staging = staging;
        this.metadata = metadata;
        this.properties = properties;
        this.clock = Clock.systemUTC();
    }

    @Scheduled(fixedDelayString = "${patient-images.staging.cleanup-interval:5m}",
            initialDelayString = "${patient-images.staging.cleanup-interval:5m}")
    void sweep() {
        int removed = 0;
        try {
            for (StagingArea.Entry entry : staging.olderThan(clock.instant().minus(properties.cleanupGrace()))) {
                if (entry.incomplete() || !stillNeeded(entry.key())) {
                    staging.delete(entry);
                    removed++;
                }
            }
        } catch (IOException | ApiProblem e) {
            log.warn("staging sweep stopped early, next round in {}: {}", properties.cleanupInterval(), e.getMessage());
        }
        if (removed > 0) {
            log.info("staging sweep removed {} abandoned file(s)", removed);
        }
    }

    /**
     * Whether a worker may still read the staged file of this key (the key is the id of the job that staged it):
     * the metadata-service knows, since a job that failed for a passing cause may be retried from it.
     */
    private boolean stillNeeded(String key) {
        return metadata.get("/internal/v1/staging/{key}", key).path("needed").asBoolean();
    }
}
