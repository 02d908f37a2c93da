package org.patientimages.gateway.upload;

import org.patientimages.gateway.metadata.MetadataClient;
import org.springframework.stereotype.Component;

import java.util.Optional;

/**
 * Which of the patients the caller may see has an identifier (the hospital's, as a DICOM file's Patient ID carries
 * it): asked of the metadata-service, whose patient list applies the caller's grants.
 */
@Component
class PatientIdentifiers {

    private final MetadataClient metadata;

    PatientIdentifiers(MetadataClient metadata) {
        this.metadata = metadata;
    }

    /** The id of the live patient with this identifier, when the caller may see it. */
    Optional<String> patientOf(String identifier) {
        var items = metadata.get("/internal/v1/patients?identifier={identifier}&limit=1", identifier).path("items");
        return items.isEmpty() ? Optional.empty() : Optional.of(items.get(0).path("patientId").asString());
    }
}
