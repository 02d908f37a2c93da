package org.patientimages.metadata.upload;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.access.PatientAccess;
import org.patientimages.metadata.image.Tags;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import java.util.List;
import java.util.Map;
import java.util.UUID;

@RestController
class UploadController {

    private final UploadRegistrar registrar;
    private final PatientAccess access;

    UploadController(UploadRegistrar registrar, PatientAccess access) {
        this.registrar = registrar;
        this.access = access;
    }

    /** The upload an idempotency key already names, so that a retry need not send its bytes again. */
    @GetMapping("/internal/v1/uploads")
    UploadRegistered byIdempotencyKey(@RequestParam String patientId, @RequestParam String idempotencyKey,
                                      Caller caller) {
        return Ids.parse(patientId).filter(id -> access.permits(caller, id))
                .flatMap(id -> registrar.replayOf(id, idempotencyKey))
                .orElseThrow(() -> ApiException.notFound("UPLOAD_NOT_FOUND",
                        "No upload of this patient has that idempotency key."));
    }

    /**
     * An upload's tags normalised, or 400 {@code INVALID_METADATA} as its registration would answer: for a
     * resumable upload, whose tags are checked when it is created rather than after its last byte.
     */
    @PostMapping("/internal/v1/uploads/tags")
    Map<String, List<String>> checkTags(@RequestBody Map<String, List<String>> body) {
        return Map.of("tags", Tags.normalise(body.get("tags"), UploadRegistrar.INVALID_METADATA));
    }

    /** The uploads of an archive sent with this idempotency key, so that a retry need not send it again. */
    @GetMapping("/internal/v1/uploads/batch")
    Map<String, List<UploadRegistered>> batchByIdempotencyKey(@RequestParam String patientId,
                                                            @RequestParam String idempotencyKey, Caller caller) {
        return Ids.parse(patientId).filter(id -> access.permits(caller, id))
                .flatMap(id -> registrar.replayOfBatch(id, idempotencyKey)).map(items -> Map.of("items", items))
                .orElseThrow(() -> ApiException.notFound("UPLOAD_NOT_FOUND",
                        "No archive of this patient has that idempotency key."));
    }

    /** The uploads that came together, such as the files of one archive. */
    record Batch(List<UploadRegistration> registrations) {
    }

    /**
     * The files of one request registered in one transaction, all of them or none: an archive's (one patient's), or
     * a DICOMweb store's at the service's root (each file its patient's, of those the caller may see). 201, or 200
     * when their idempotency keys named earlier uploads.
     */
    @PostMapping("/internal/v1/uploads/batch")
    ResponseEntity<Map<String, List<UploadRegistered>>> registerAll(@RequestBody Batch batch, Caller caller) {
        List<UploadRegistration> registrations = batch.registrations() == null ? List.of() : batch.registrations();
        if (registrations.isEmpty() || registrations.stream().anyMatch(r -> r.patientId() == null)) {
            throw ApiException.badRequest("INVALID_BATCH", "A batch is one or more uploads, each of a patient.");
        }
        registrations.stream().map(UploadRegistration::patientId).distinct().forEach(patientId -> access.require(
                caller, patientId, () -> ApiException.notFound("PATIENT_NOT_FOUND",
                        "No patient with id " + patientId + ".")));
        List<UploadRegistered> result = registrar.registerAll(registrations);
        return ResponseEntity.status(result.get(0).replayed() ? HttpStatus.OK : HttpStatus.CREATED)
                .body(Map.of("items", result));
    }

    /** 201 for a new upload, 200 when the idempotency key named an earlier one. */
    @PostMapping("/internal/v1/uploads")
    ResponseEntity<UploadRegistered> register(@RequestBody UploadRegistration registration, Caller caller) {
        if (registration.patientId() != null) {
            access.require(caller, registration.patientId(), () -> ApiException.notFound("PATIENT_NOT_FOUND",
                    "No patient with id " + registration.patientId() + "."));
        }
        UploadRegistered result = registrar.register(registration);
        return ResponseEntity.status(result.replayed() ? HttpStatus.OK : HttpStatus.CREATED).body(result);
    }
}
