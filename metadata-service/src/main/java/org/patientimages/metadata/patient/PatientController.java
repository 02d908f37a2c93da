package org.patientimages.metadata.patient;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.access.PatientAccess;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.ResponseEntity;
import org.patientimages.metadata.image.DeletionProperties;
import org.patientimages.metadata.image.ImageLifecycle;
import org.patientimages.metadata.image.LegalHolds;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.time.Instant;
import java.util.UUID;

@RestController
@RequestMapping("/internal/v1/patients")
class PatientController {

    private final PatientRepository patients;
    private final ImageLifecycle lifecycle;
    private final PatientAccess access;
    private final VisiblePatients visible;
    private final DeletionProperties deletion;

    PatientController(PatientRepository patients, ImageLifecycle lifecycle, PatientAccess access,
                      VisiblePatients visible, DeletionProperties deletion) {
        this.patients = patients;
        this.lifecycle = lifecycle;
        this.access = access;
        this.visible = visible;
        this.deletion = deletion;
    }

    @PostMapping
    @Transactional
    ResponseEntity<Patient> create(@RequestBody NewPatient request, Caller caller) {
        NewPatient p = request.validated();
        var row = new PatientRepository.Row(UUID.randomUUID(), p.name(), p.username(), Timestamps.now(), 0, null,
                null);
        try {
            patients.insert(row);
        } catch (DuplicateKeyException e) {
            throw ApiException.conflict("USERNAME_TAKEN", "username '" + p.username() + "' is already taken.");
        }
        if (caller.isClinician()) {
            access.grant(row.id(), caller.name(), caller.name());
        }
        return ResponseEntity.created(URI.create("/v1/patients/" + row.id())).body(row.toApi());
    }

    @GetMapping("/{patientId}")
    Patient get(@PathVariable String patientId, Caller caller) {
        PatientRepository.Row row = Ids.parse(patientId).flatMap(patients::find).orElseThrow(() -> notFound(patientId));
        access.require(caller, row.id(), () -> notFound(patientId));
        return row.toApi();
    }

    /** The id of a patient that exists and that the caller may see; 404 otherwise. */
    private UUID existing(String patientId, Caller caller) {
        return visible.require(patientId, caller);
    }

    /** Live patients; {@code status=DELETED} (admins): the deleted ones that can still be restored. */
    @GetMapping
    Page<Patient> list(@RequestParam(required = false) String username,
                       @RequestParam(required = false) Integer limit,
                       @RequestParam(required = false) String cursor,
                       @RequestParam(required = false) String status, Caller caller) {
        int n = Paging.limit(limit);
        if (status != null && !status.equals("DELETED")) {
            throw ApiException.badRequest("INVALID_PARAMETER", "status can only be DELETED (or absent, for live patients).");
        }
        if (status != null) {
            caller.requireAdmin("list deleted patients");
        }
        var rows = patients.list(username, caller.restricted() ? caller.name() : null, Paging.after(cursor), n,
                status != null);
        Page<PatientRepository.Row> page = Paging.page(rows, n, PatientRepository.Row::cursor);
        return new Page<>(page.items().stream().map(PatientRepository.Row::toApi).toList(), page.nextCursor());
    }

    @PatchMapping("/{patientId}")
    Patient update(@PathVariable String patientId, @RequestBody PatientChanges changes, Caller caller) {
        PatientChanges c = changes.validated();
        UUID id = existing(patientId, caller);
        try {
            if (!patients.update(id, c.name(), c.username())) {
                throw notFound(patientId);
            }
        } catch (DuplicateKeyException e) {
            throw ApiException.conflict("USERNAME_TAKEN", "username '" + c.username() + "' is already taken.");
        }
        return get(patientId, caller);
    }

    /**
     * 409 while the patient has images, unless {@code cascade=true} deletes them too. The patient and its stored images
     * stay restorable for the recovery window, unless {@code purge=true} removes the images' objects at once.
     */
    @DeleteMapping("/{patientId}")
    @Transactional
    ResponseEntity<Void> delete(@PathVariable String patientId, @RequestParam(defaultValue = "false") boolean cascade,
                                @RequestParam(defaultValue = "false") boolean purge, Caller caller) {
        UUID id = existing(patientId, caller);
        // an image moving to this patient waits, or finds it gone
        if (patients.lock(id).orElseThrow(() -> notFound(patientId)).held()) {
            throw LegalHolds.held("Patient " + patientId);
        }
        var images = patients.liveImages(id);
        if (!images.isEmpty() && !cascade) {
            throw ApiException.conflict("PATIENT_HAS_IMAGES", "Patient " + patientId + " has " + images.size()
                    + " image(s); delete them first or use cascade=true.");
        }
        Instant at = Timestamps.now();
        images.forEach(image -> lifecycle.delete(image, at, purge));
        patients.markDeleted(id, at, purge ? null : deletion.restorableUntil(at));
        return ResponseEntity.noContent().build();
    }

    /**
     * Restores a deleted patient in its recovery window (admins), with the images deleted with it whose window is still
     * open; a patient that is not deleted is answered as it is.
     */
    @PostMapping("/{patientId}/restore")
    @Transactional
    Patient restore(@PathVariable String patientId, Caller caller) {
        caller.requireAdmin("restore patients");
        UUID id = Ids.parse(patientId).orElseThrow(() -> notFound(patientId));
        PatientRepository.Locked deleted = patients.lock(id).orElseThrow(() -> notFound(patientId));
        if (deleted.deletedAt() != null) {
            if (deleted.restorableUntil() == null || !deleted.restorableUntil().isAfter(Timestamps.now())) {
                throw ApiException.conflict("PATIENT_NOT_RESTORABLE", "Patient " + patientId
                        + " cannot be restored: its recovery window has closed, or it was deleted with purge=true.");
            }
            patients.markRestored(id);
            lifecycle.restoreDeletedWith(id, deleted.deletedAt());
        }
        return get(patientId, caller);
    }

    record HoldRequest(String reason) {
    }

    /** Puts the patient under a legal hold (admins): its images can be neither deleted, purged nor moved away. */
    @PutMapping("/{patientId}/legal-hold")
    Patient hold(@PathVariable String patientId, @RequestBody(required = false) HoldRequest body, Caller caller) {
        caller.requireAdmin("place legal holds");
        String reason = body == null || body.reason() == null ? "" : body.reason().strip();
        if (reason.isEmpty() || reason.length() > 500) {
            throw ApiException.badRequest("INVALID_LEGAL_HOLD", "Give the hold's reason (a case or reference), 1 to 500"
                    + " characters: {\"reason\": …}.");
        }
        if (!patients.hold(existing(patientId, caller), reason, caller.name(), Timestamps.now())) {
            throw notFound(patientId);
        }
        return get(patientId, caller);
    }

    /** Releases the patient's legal hold (admins); a patient without one is answered as it is. */
    @DeleteMapping("/{patientId}/legal-hold")
    ResponseEntity<Void> release(@PathVariable String patientId, Caller caller) {
        caller.requireAdmin("release legal holds");
        if (!patients.release(existing(patientId, caller))) {
            throw notFound(patientId);
        }
        return ResponseEntity.noContent().build();
    }

    static ApiException notFound(String patientId) {
        return VisiblePatients.notFound(patientId);
    }
}
