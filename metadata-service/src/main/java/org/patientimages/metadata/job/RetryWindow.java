package org.patientimages.metadata.job;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.time.Duration;

/**
 * How long after it failed for a passing cause a job may be retried, and so how long its staged bytes are kept.
 * Such a job, within the window, not retried yet and whose image was not deleted, awaits a retry:
 * {@link #AWAITING_RETRY} says so in SQL, over {@code jobs j join images i on i.id = j.image_id}, its one parameter
 * the window's start.
 */
@ConfigurationProperties("patient-images.jobs")
public record RetryWindow(@DefaultValue("7d") Duration retryWindow) {

    public static final String AWAITING_RETRY = """
            j.status = 'FAILED' and j.error_retryable and j.updated_at > ? and i.status <> 'DELETED'
            and not exists (select 1 from jobs r where r.retry_of = j.id)""";
}
