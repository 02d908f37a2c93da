package org.patientimages.metadata.job;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class ImageChangeTest {

    private static final Instant T1 = Instant.parse("2026-11-28T10:00:00Z");
    private static final Instant T2 = Instant.parse("2026-11-28T10:00:01Z");
    private static final JobState RUNNING = new JobState(JobStatus.RUNNING, 0, 1, false);
    private static final JobState RUNNING_STORED = new JobState(JobStatus.RUNNING, 90, 1, true);
    private static final JobState SUCCEEDED = new JobState(JobStatus.SUCCEEDED, 100, 1, true);
    private static final JobState FAILED = new JobState(JobStatus.FAILED, 0, 1, false);

    @Test
    void a_store_and_the_success_after_it_make_one_change_with_both() {
        JobEventRecorder.ImageChange change = JobEventRecorder.ImageChange.NONE
                .with(new JobFact.Stored("bucket", "key", 10, "00"), RUNNING_STORED, T1)
                .with(new JobFact.Succeeded(), SUCCEEDED, T2);
        assertThat(change).isEqualTo(new JobEventRecorder.ImageChange("bucket", "key", T1, null, null, "AVAILABLE"));
    }

    @Test
    void facts_that_change_no_image_leave_the_change_as_it_is() {
        JobEventRecorder.ImageChange none = JobEventRecorder.ImageChange.NONE;
        assertThat(none.with(new JobFact.Started("w1"), RUNNING, T1)).isSameAs(none);
        assertThat(none.with(new JobFact.Progressed(40, 4), RUNNING, T1)).isSameAs(none);
        assertThat(none.with(new JobFact.RetryScheduled("down", 1000), RUNNING, T1)).isSameAs(none);
        assertThat(none.with(new JobFact.StepSkipped("THUMBNAIL", "unreadable"), RUNNING_STORED, T1)).isSameAs(none);
    }

    @Test
    void a_later_fact_replaces_what_an_earlier_one_set_and_keeps_the_rest() {
        JobEventRecorder.ImageChange change = JobEventRecorder.ImageChange.NONE
                .with(new JobFact.Stored("bucket", "key", 10, "00"), RUNNING_STORED, T1)
                .with(new JobFact.AttributesExtracted("{\"a\":1}"), RUNNING_STORED, T1)
                .with(new JobFact.ThumbnailRendered("thumb", 8, 8), RUNNING_STORED, T1)
                .with(new JobFact.AttributesExtracted("{\"a\":2}"), RUNNING_STORED, T2);
        assertThat(change).isEqualTo(new JobEventRecorder.ImageChange("bucket", "key", T1, "{\"a\":2}", "thumb", null));
    }

    @Test
    void a_failed_job_fails_its_image() {
        assertThat(JobEventRecorder.ImageChange.NONE.with(new JobFact.Failed("CHECKSUM_MISMATCH", "no", false), FAILED, T1))
                .isEqualTo(new JobEventRecorder.ImageChange(null, null, null, null, null, "FAILED"));
    }
}
