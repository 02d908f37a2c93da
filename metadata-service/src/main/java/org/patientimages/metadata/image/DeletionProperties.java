package org.patientimages.metadata.image;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.time.Instant;

/**
 * How long a deleted image can still be restored.
 *
 * @param recoveryWindow a deleted image that was stored keeps its objects this long, and an admin may restore it
 *                       meanwhile (a deleted patient too, with the images deleted with it); {@code 0s} removes them
 *                       at once
 * @param purgeInterval  how often the images whose window has closed are purged (their objects removed)
 */
@ConfigurationProperties("patient-images.deletion")
public record DeletionProperties(@DefaultValue("7d") Duration recoveryWindow,
                                 @DefaultValue("1m") Duration purgeInterval) {

    /** Until when something deleted at {@code at} can be restored; null when there is no window. */
    public Instant restorableUntil(Instant at) {
        return recoveryWindow.isZero() || recoveryWindow.isNegative() ? null : at.plus(recoveryWindow);
    }
}
