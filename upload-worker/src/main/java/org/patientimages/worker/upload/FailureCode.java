package org.patientimages.worker.upload;

/** Why a job failed, as clients see it in {@code error.code}. */
public enum FailureCode {
    /** The staged bytes are gone (cleaned up, or the disk was lost); the client must upload again. */
    STAGED_FILE_MISSING(false),
    /** The staged bytes no longer match the size or SHA-256 computed when they were received. */
    CHECKSUM_MISMATCH(false),
    /** The object store stayed unavailable for the whole retry budget. */
    STORAGE_UNAVAILABLE(true);

    private final boolean retryable;

    FailureCode(boolean retryable) {
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
