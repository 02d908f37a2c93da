package org.patientimages.metadata.job;

/** A job's status; it only moves forward: {@code QUEUED → RUNNING → SUCCEEDED | FAILED}. */
public enum JobStatus {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
