package org.patientimages.events;

/** The Kafka topics of the pipeline; every record's key is the job id. */
public final class Topics {

    /** {@code UploadAccepted} events, written by the metadata-service's outbox relay, read by the workers. */
    public static final String UPLOADS = "patient-images.uploads";

    /** {@code JobEvent}s, written by the workers, read by the metadata-service. */
    public static final String JOB_EVENTS = "patient-images.job-events";

    /** {@code ImageDeleted} events, written by the metadata-service's outbox relay, read by the workers. */
    public static final String IMAGE_DELETIONS = "patient-images.image-deletions";

    /** Suffix of each topic's dead-letter topic (spring-kafka's default naming). */
    public static final String DEAD_LETTER_SUFFIX = "-dlt";

    private Topics() {
    }
}
