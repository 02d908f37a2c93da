package org.patientimages.metadata.job;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class RetryWindowTest {

    private final RetryWindow week = new RetryWindow(Duration.ofDays(7));
    private final Instant now = Instant.parse("2026-12-07T10:00:00Z");

    @Test
    void a_job_failed_for_a_passing_cause_within_the_window_can_be_retried() {
        assertThat(week.refusal("j", JobStatus.FAILED, "STORAGE_UNAVAILABLE", true, now.minus(Duration.ofDays(6)),
                false, now)).isEmpty();
    }

    @Test
    void every_other_job_is_refused_with_its_reason() {
        assertThat(week.refusal("j", JobStatus.RUNNING, null, false, now, false, now))
                .hasValueSatisfying(reason -> assertThat(reason).contains("is RUNNING"));
        assertThat(week.refusal("j", JobStatus.SUCCEEDED, null, false, now, false, now)).isPresent();
        assertThat(week.refusal("j", JobStatus.CANCELLED, null, false, now, false, now)).isPresent();
        assertThat(week.refusal("j", JobStatus.FAILED, "CHECKSUM_MISMATCH", false, now, false, now))
                .hasValueSatisfying(reason -> assertThat(reason).contains("CHECKSUM_MISMATCH", "upload the file again"));
        assertThat(week.refusal("j", JobStatus.FAILED, "STORAGE_UNAVAILABLE", true, now.minus(Duration.ofDays(8)),
                false, now)).hasValueSatisfying(reason -> assertThat(reason).contains("7 day(s)"));
        assertThat(week.refusal("j", JobStatus.FAILED, "STORAGE_UNAVAILABLE", true, now, true, now))
                .hasValueSatisfying(reason -> assertThat(reason).contains("deleted"));
        assertThat(new RetryWindow(Duration.ofSeconds(30)).refusal("j", JobStatus.FAILED, "STORAGE_UNAVAILABLE", true,
                now.minusSeconds(31), false, now)).hasValueSatisfying(reason -> assertThat(reason).contains("30 second(s)"));
    }
}
