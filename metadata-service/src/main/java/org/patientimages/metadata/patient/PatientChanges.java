package org.patientimages.metadata.patient;

import org.patientimages.metadata.web.ApiException;

/** {@code PATCH /v1/patients/{id}}: the fields given are changed, by the rules of a new patient. */
public record PatientChanges(String name, String username, String identifier, String birthDate) {

    PatientChanges validated() {
        if (name == null && username == null && identifier == null && birthDate == null) {
            throw ApiException.badRequest("NOTHING_TO_CHANGE",
                    "Give name, username, identifier, birthDate or more of them.");
        }
        NewPatient checked = new NewPatient(name == null ? "unchanged" : name,
                username == null ? "unchanged" : username, identifier, birthDate).validated();
        return new PatientChanges(name == null ? null : checked.name(), username == null ? null : checked.username(),
                checked.identifier(), checked.birthDate());
    }
}
