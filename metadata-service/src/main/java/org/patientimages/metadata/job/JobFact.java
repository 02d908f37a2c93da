package org.patientimages.metadata.job;

/** What a worker reports about a job (and a client's cancellation), free of Kafka and protobuf types. */
public sealed interface JobFact {

    /** The job event type recorded for this fact. */
    String eventType();

    record Started(String workerId) implements JobFact {
        public String eventType() {
            return "STARTED";
        }
    }

    record Progressed(int percent, long bytesStored) implements JobFact {
        public String eventType() {
            return "PROGRESS";
        }
    }

    record Stored(String bucket, String objectKey, long sizeBytes, String sha256) implements JobFact {
        public String eventType() {
            return "STORED";
        }
    }

    /** What the worker read from the bytes, as a JSON object. */
    record AttributesExtracted(String attributesJson) implements JobFact {
        public String eventType() {
            return "ATTRIBUTES_EXTRACTED";
        }
    }

    /** The thumbnail is stored under {@code objectKey}, in the bucket of the image. */
    record ThumbnailRendered(String objectKey, int width, int height) implements JobFact {
        public String eventType() {
            return "THUMBNAIL_RENDERED";
        }
    }

    /** A step after storing could not be done for this file; the image stays available without its result. */
    record StepSkipped(String step, String reason) implements JobFact {
        public String eventType() {
            return "STEP_SKIPPED";
        }
    }

    /**
     * The upload's bytes equal an image the patient already has, and the duplicate policy says skip: the job
     * ends at once, its image being that earlier one. Recorded as the job's SUCCEEDED event.
     */
    record SkippedAsDuplicate(String existingImageId) implements JobFact {
        public String eventType() {
            return "SUCCEEDED";
        }
    }

    record Succeeded() implements JobFact {
        public String eventType() {
            return "SUCCEEDED";
        }
    }

    record Failed(String code, String message, boolean retryable) implements JobFact {
        public String eventType() {
            return "FAILED";
        }
    }

    /** A client cancelled the job before it ended; its image is deleted. Not a worker's fact. */
    record Cancelled(String by) implements JobFact {
        public String eventType() {
            return "CANCELLED";
        }
    }

    record RetryScheduled(String reason, long backoffMs) implements JobFact {
        public String eventType() {
            return "RETRY_SCHEDULED";
        }
    }
}
