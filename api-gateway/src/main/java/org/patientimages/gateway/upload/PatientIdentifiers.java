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

    /** A patient found by its identifier: its id and date of birth ({@code YYYY-MM-DD}, null when not known). */
    record Found(String patientId, String birthDate) {
    }

    /** The live patient with this identifier, when the caller may see it. */
    Optional<Found> patientOf(String identifier) {
        var items = metadata.get("/internal/v1/patients?identifier={identifier}&limit=1", identifier).path("items");
        if (items.isEmpty()) {
            return Optional.empty();
        }
        var patient = items.get(0);
        return Optional.of(new Found(patient.path("patientId").asString(),
                patient.path("birthDate").isString() ? patient.path("birthDate").asString() : null));
    }
}
