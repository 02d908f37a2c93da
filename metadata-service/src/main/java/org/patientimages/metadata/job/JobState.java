package org.patientimages.metadata.job;

import java.util.Optional;

/**
 * The part of a job that its facts change, and the rules that change it. Pure: no Spring, Kafka or JDBC.
 * A fact that would move the status backwards, repeat a transition or arrive after the end changes
 * nothing, so redelivered and replayed events are harmless.
 */
public record JobState(JobStatus status, int progress, int attempts, boolean stored) {

    /** The state after the fact, or empty when the fact is to be ignored (nothing recorded). */
    public Optional<JobState> apply(JobFact fact) {
        if (status.isTerminal()) {
            return Optional.empty();
        }
        if (fact instanceof JobFact.Started) {
            return Optional.of(new JobState(JobStatus.RUNNING, progress, attempts + 1, stored));
        }
        if (fact instanceof JobFact.Progressed p) {
            return status == JobStatus.RUNNING && p.percent() > progress && p.percent() < 100
                    ? Optional.of(new JobState(status, p.percent(), attempts, stored))
                    : Optional.empty();
        }
        if (fact instanceof JobFact.Stored) {
            return status == JobStatus.RUNNING && !stored
                    ? Optional.of(new JobState(status, progress, attempts, true))
                    : Optional.empty();
        }
        if (fact instanceof JobFact.AttributesExtracted || fact instanceof JobFact.ThumbnailRendered
                || fact instanceof JobFact.StepSkipped) {
            return status == JobStatus.RUNNING && stored ? Optional.of(this) : Optional.empty();
        }
        if (fact instanceof JobFact.Succeeded) {
            return status == JobStatus.RUNNING && stored
                    ? Optional.of(new JobState(JobStatus.SUCCEEDED, 100, attempts, true))
                    : Optional.empty();
        }
        if (fact instanceof JobFact.SkippedAsDuplicate) {
            return status == JobStatus.QUEUED && attempts == 0
                    ? Optional.of(new JobState(JobStatus.SUCCEEDED, 100, 0, true))
                    : Optional.empty();
        }
        if (fact instanceof JobFact.Cancelled) {
            return Optional.of(new JobState(JobStatus.CANCELLED, progress, attempts, stored));
        }
        if (fact instanceof JobFact.Failed) {
            return Optional.of(new JobState(JobStatus.FAILED, progress, attempts, stored));
        }
        // RetryScheduled: recorded as an event, the state stays as it is
        return Optional.of(this);
    }
}
