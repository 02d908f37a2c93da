package org.patientimages.metadata.integrity;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * How often stored images are read back and checked.
 *
 * @param every         an available image is checked again when its last check (or its storing) is this old
 * @param interval      how often the scheduler looks for images due
 * @param inFlight      at most this many checks asked for and not answered at once (each reads a whole object)
 * @param answerTimeout a check not answered in this time is asked for again (its request or answer was lost)
 * @param deriveChunk   images marked to be derived again per transaction, when an admin asks for many: each chunk's
 *                      rows are locked only until it commits, not for the whole call
 */
@ConfigurationProperties("patient-images.integrity")
public record IntegrityProperties(@DefaultValue("true") boolean enabled, @DefaultValue("30d") Duration every,
                                  @DefaultValue("30s") Duration interval, @DefaultValue("8") int inFlight,
                                  @DefaultValue("1h") Duration answerTimeout,
                                  @DefaultValue("10000") int deriveChunk) {
}
