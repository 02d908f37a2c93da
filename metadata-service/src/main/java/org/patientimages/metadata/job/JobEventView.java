package org.patientimages.metadata.job;

import com.fasterxml.jackson.annotation.JsonRawValue;

/** One recorded job event as the API shows it; {@code detail} is the stored JSON object. */
public record JobEventView(int seq, String type, String at, @JsonRawValue String detail) {
}
