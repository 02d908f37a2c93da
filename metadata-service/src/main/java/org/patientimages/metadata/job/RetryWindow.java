package org.patientimages.metadata.job;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * How long after it failed for a passing cause a job may be retried, and so how long its staged bytes are kept.
 * Such a job, within the window, not retried yet and whose image was not deleted, awaits a retry:
 * {@link #AWAITING_RETRY} says so in SQL, over {@code jobs j join images i on i.id = j.image_id}, its one parameter
 * the window's start.
 */
@ConfigurationProperties("patient-images.jobs")
public record RetryWindow(@DefaultValue("7d") Duration retryWindow) {

    /**
     * Why a job cannot be retried now, or empty when it can: it failed for a passing cause ({@code retryable}) less
     * than the window ago, and its image was not deleted. (Whether it was retried already is asked first: a job is
     * retried once, and asked again the answer is that retry.)
     */
    public Optional<String> refusal(String jobId, JobStatus status, String errorCode, boolean retryable,
                                    Instant failedAt, boolean imageDeleted, Instant now) {
        if (status != JobStatus.FAILED) {
            return Optional.of("Job " + jobId + " is " + status + "; only a failed job can be retried.");
        }
        if (!retryable) {
            return Optional.of("Job " + jobId + " failed with " + errorCode + ", which no retry mends; upload the"
                    + " file again.");
        }
        if (failedAt.isBefore(now.minus(retryWindow))) {
            return Optional.of("Job " + jobId + " failed more than " + (retryWindow.toDays() > 0
                    ? retryWindow.toDays() + " day(s)" : retryWindow.toSeconds() + " second(s)")
                    + " ago and its bytes are no longer kept; upload the file again.");
        }
        if (imageDeleted) {
            return Optional.of("The image of job " + jobId + " was deleted.");
        }
        return Optional.empty();
    }

    public static final String AWAITING_RETRY = """
            j.status = 'FAILED' and j.error_retryable and j.updated_at > ? and i.status <> 'DELETED'
            and not exists (select 1 from jobs r where r.retry_of = j.id)""";
}
