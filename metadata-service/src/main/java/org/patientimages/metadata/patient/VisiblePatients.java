package org.patientimages.metadata.patient;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.access.PatientAccess;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.springframework.stereotype.Component;

import java.util.UUID;
import java.util.function.Supplier;

/** The patient a request names, as the caller may see it: the one lookup of every call scoped to a patient. */
@Component
public class VisiblePatients {

    private final PatientRepository patients;
    private final PatientAccess access;

    VisiblePatients(PatientRepository patients, PatientAccess access) {
        this.patients = patients;
        this.access = access;
    }

    /** The id of a patient that exists and that the caller may see; 404 otherwise (a denial marked as such). */
    public UUID require(String patientId, Caller caller) {
        Supplier<ApiException> notFound = () -> notFound(patientId);
        UUID id = Ids.parse(patientId).filter(patients::exists).orElseThrow(notFound);
        access.require(caller, id, notFound);
        return id;
    }

    public static ApiException notFound(String patientId) {
        return ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + patientId + ".");
    }
}
