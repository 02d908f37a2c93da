package org.patientimages.metadata.job;

/** What a worker reports about a job, free of Kafka and protobuf types. */
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

    record RetryScheduled(String reason, long backoffMs) implements JobFact {
        public String eventType() {
            return "RETRY_SCHEDULED";
        }
    }
}
