package org.patientimages.events;

/** The Kafka topics of the pipeline; a record's key is its job id, or its image id for an image's own events. */
public final class Topics {

    /** {@code UploadAccepted} events, written by the metadata-service's outbox relay, read by the workers. */
    public static final String UPLOADS = "patient-images.uploads";

    /** {@code JobEvent}s, written by the workers, read by the metadata-service. */
    public static final String JOB_EVENTS = "patient-images.job-events";

    /** {@code ImageDeleted} events, written by the metadata-service's outbox relay, read by the workers. */
    public static final String IMAGE_DELETIONS = "patient-images.image-deletions";

    /** {@code IntegrityCheckRequested} events, written by the metadata-service's outbox relay, read by the workers. */
    public static final String INTEGRITY_CHECKS = "patient-images.integrity-checks";

    /** {@code IntegrityChecked} events, written by the workers, read by the metadata-service. */
    public static final String INTEGRITY_RESULTS = "patient-images.integrity-results";

    /**
     * {@code JobCancelled} events, written by the metadata-service's outbox relay, read by every worker (a consumer
     * group each). Kept for {@link #JOB_CANCELLATIONS_RETENTION_MS}: a worker that starts reads what is left of it.
     */
    public static final String JOB_CANCELLATIONS = "patient-images.job-cancellations";

    /** How long the cancellations topic keeps a record: one day. */
    public static final long JOB_CANCELLATIONS_RETENTION_MS = 24L * 60 * 60 * 1000;

    /** Suffix of each topic's dead-letter topic (spring-kafka's default naming). */
    public static final String DEAD_LETTER_SUFFIX = "-dlt";

    private Topics() {
    }
}
