package org.patientimages.metadata.job;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class JobStateTest {

    private static final JobState QUEUED = new JobState(JobStatus.QUEUED, 0, 0, false);
    private static final JobFact STARTED = new JobFact.Started("w1");
    private static final JobFact STORED = new JobFact.Stored("b", "k", 1, "00");
    private static final JobFact SUCCEEDED = new JobFact.Succeeded();
    private static final JobFact FAILED = new JobFact.Failed("CHECKSUM_MISMATCH", "no", false);

    @Test
    void a_job_runs_stores_and_succeeds_in_order() {
        JobState running = QUEUED.apply(STARTED).orElseThrow();
        assertThat(running).isEqualTo(new JobState(JobStatus.RUNNING, 0, 1, false));
        JobState progressed = running.apply(new JobFact.Progressed(40, 10)).orElseThrow();
        JobState stored = progressed.apply(STORED).orElseThrow();
        JobState done = stored.apply(SUCCEEDED).orElseThrow();
        assertThat(done).isEqualTo(new JobState(JobStatus.SUCCEEDED, 100, 1, true));
    }

    @Test
    void nothing_changes_a_finished_job() {
        JobState succeeded = new JobState(JobStatus.SUCCEEDED, 100, 1, true);
        JobState failed = new JobState(JobStatus.FAILED, 10, 1, false);
        for (JobFact fact : new JobFact[] {STARTED, STORED, SUCCEEDED, FAILED, new JobFact.Progressed(50, 1),
                new JobFact.RetryScheduled("x", 1)}) {
            assertThat(succeeded.apply(fact)).as("%s after SUCCEEDED", fact).isEmpty();
            assertThat(failed.apply(fact)).as("%s after FAILED", fact).isEmpty();
        }
    }

    @Test
    void a_repeated_store_or_progress_that_goes_back_is_ignored() {
        JobState stored = QUEUED.apply(STARTED).orElseThrow().apply(new JobFact.Progressed(60, 1)).orElseThrow()
                .apply(STORED).orElseThrow();
        assertThat(stored.apply(STORED)).isEmpty();
        assertThat(stored.apply(new JobFact.Progressed(30, 1))).isEmpty();
        assertThat(stored.apply(new JobFact.Progressed(60, 1))).isEmpty();
    }

    @Test
    void success_needs_a_started_and_stored_job() {
        assertThat(QUEUED.apply(SUCCEEDED)).isEmpty();
        assertThat(QUEUED.apply(STARTED).orElseThrow().apply(SUCCEEDED)).isEmpty();
    }

    @Test
    void a_redelivered_start_counts_another_attempt_without_moving_back() {
        JobState again = QUEUED.apply(STARTED).orElseThrow().apply(new JobFact.Progressed(50, 1)).orElseThrow()
                .apply(STARTED).orElseThrow();
        assertThat(again).isEqualTo(new JobState(JobStatus.RUNNING, 50, 2, false));
    }

    @Test
    void a_queued_or_running_job_can_be_cancelled_and_then_no_worker_fact_changes_it() {
        JobFact cancel = new JobFact.Cancelled("alice");
        assertThat(QUEUED.apply(cancel)).contains(new JobState(JobStatus.CANCELLED, 0, 0, false));
        JobState stored = QUEUED.apply(STARTED).orElseThrow().apply(STORED).orElseThrow();
        JobState cancelled = stored.apply(cancel).orElseThrow();
        assertThat(cancelled).isEqualTo(new JobState(JobStatus.CANCELLED, 0, 1, true));
        for (JobFact late : List.of(STARTED, STORED, SUCCEEDED, FAILED, cancel)) {
            assertThat(cancelled.apply(late)).as(late.toString()).isEmpty();
        }
        assertThat(new JobState(JobStatus.SUCCEEDED, 100, 1, true).apply(cancel)).isEmpty();
    }

    @Test
    void a_queued_or_running_job_can_fail_and_keeps_its_progress() {
        assertThat(QUEUED.apply(FAILED)).contains(new JobState(JobStatus.FAILED, 0, 0, false));
        JobState running = QUEUED.apply(STARTED).orElseThrow().apply(new JobFact.Progressed(20, 1)).orElseThrow();
        assertThat(running.apply(FAILED)).contains(new JobState(JobStatus.FAILED, 20, 1, false));
    }

    @Test
    void what_is_derived_from_the_bytes_is_recorded_only_for_a_stored_running_job() {
        for (JobFact derived : new JobFact[] {new JobFact.AttributesExtracted("{\"width\":1}"),
                new JobFact.ThumbnailRendered("images/x/thumbnail.png", 1, 1),
                new JobFact.StepSkipped("THUMBNAIL", "compressed")}) {
            JobState running = QUEUED.apply(STARTED).orElseThrow();
            assertThat(running.apply(derived)).isEmpty();
            JobState stored = running.apply(STORED).orElseThrow();
            assertThat(stored.apply(derived)).contains(stored);
            assertThat(stored.apply(SUCCEEDED).orElseThrow().apply(derived)).isEmpty();
        }
    }

    @Test
    void a_scheduled_retry_is_recorded_without_changing_the_state() {
        JobState running = QUEUED.apply(STARTED).orElseThrow();
        assertThat(running.apply(new JobFact.RetryScheduled("S3Exception", 1000))).contains(running);
    }
}
