package org.patientimages.metadata.patient;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.access.PatientAccess;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
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
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

@RestController
@RequestMapping("/internal/v1/patients")
class PatientController {

    /** The longest text a patient search takes (a name is shorter). */
    private static final int MAX_QUERY = 200;
    /** The index that keeps an identifier to one live patient (V26). */
    private static final String IDENTIFIER_KEY = "patients_identifier_key";

    private final PatientRepository patients;
    private final ImageLifecycle lifecycle;
    private final PatientAccess access;
    private final VisiblePatients visible;
    private final DeletionProperties deletion;
    private final PatientMerges merges;

    PatientController(PatientRepository patients, ImageLifecycle lifecycle, PatientAccess access,
                      VisiblePatients visible, DeletionProperties deletion, PatientMerges merges) {
        this.patients = patients;
        this.lifecycle = lifecycle;
        this.access = access;
        this.visible = visible;
        this.deletion = deletion;
        this.merges = merges;
    }

    @PostMapping
    @Transactional
    ResponseEntity<Patient> create(@RequestBody NewPatient request, Caller caller) {
        NewPatient p = request.validated();
        var row = new PatientRepository.Row(UUID.randomUUID(), p.name(), p.username(), p.identifier(),
                p.birthDate() == null ? null : LocalDate.parse(p.birthDate()), Timestamps.now(), 0, null, null);
        try {
            patients.insert(row);
        } catch (DuplicateKeyException e) {
            throw taken(e, p.username());
        }
        if (caller.isClinician()) {
            access.grant(row.id(), caller.name(), caller.name());
        }
        return ResponseEntity.created(URI.create("/v1/patients/" + row.id())).body(row.toApi());
    }

    /** The patient; one merged into another is gone, and its 404 names the other to whoever may see that one. */
    @GetMapping("/{patientId}")
    Patient get(@PathVariable String patientId, Caller caller) {
        Optional<UUID> id = Ids.parse(patientId);
        PatientRepository.Row row = id.flatMap(patients::find).orElseThrow(() -> id.flatMap(patients::merged)
                .filter(merged -> access.permits(caller, merged.into()))
                .map(merged -> ApiException.notFound("PATIENT_NOT_FOUND", "Patient " + patientId
                        + " was merged into patient " + merged.into() + " at " + Timestamps.format(merged.at())
                        + "; its images are that patient's."))
                .orElseGet(() -> notFound(patientId)));
        access.require(caller, row.id(), () -> notFound(patientId));
        return row.toApi();
    }

    /** The id of a patient that exists and that the caller may see; 404 otherwise. */
    private UUID existing(String patientId, Caller caller) {
        return visible.require(patientId, caller);
    }

    /**
     * Live patients, oldest first; {@code username}: the one of that username; {@code identifier}: the one with that
     * identifier (as a DICOM file's Patient ID carries it: spaces around it do not count); {@code q}: those whose
     * name or username holds the text, in any case; {@code birthDate}: those born that day; {@code status=DELETED}
     * (admins): the deleted ones that can still be restored.
     */
    @GetMapping
    Page<Patient> list(@RequestParam(required = false) String username,
                       @RequestParam(required = false) String identifier,
                       @RequestParam(required = false) String q,
                       @RequestParam(required = false) String birthDate,
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
        if (q != null && q.strip().length() > MAX_QUERY) {
            throw ApiException.badRequest("INVALID_PARAMETER", "q may be at most " + MAX_QUERY + " characters.");
        }
        var rows = patients.list(username, identifier == null ? null : identifier.strip(),
                q == null || q.isBlank() ? null : q.strip(),
                birthDate == null ? null : NewPatient.checkedBirthDate(birthDate),
                caller.restricted() ? caller.name() : null, Paging.after(cursor), n, status != null);
        Page<PatientRepository.Row> page = Paging.page(rows, n, PatientRepository.Row::cursor);
        return new Page<>(page.items().stream().map(PatientRepository.Row::toApi).toList(), page.nextCursor());
    }

    @PatchMapping("/{patientId}")
    Patient update(@PathVariable String patientId, @RequestBody PatientChanges changes, Caller caller) {
        PatientChanges c = changes.validated();
        UUID id = existing(patientId, caller);
        try {
            if (!patients.update(id, c)) {
                throw notFound(patientId);
            }
        } catch (DuplicateKeyException e) {
            throw taken(e, c.username());
        }
        return get(patientId, caller);
    }

    /** {@code 409}: the username, or the identifier, is another patient's. */
    private static ApiException taken(DuplicateKeyException e, String username) {
        return e.getMessage() != null && e.getMessage().contains(IDENTIFIER_KEY) ? identifierTaken()
                : ApiException.conflict("USERNAME_TAKEN", "username '" + username + "' is already taken.");
    }

    private static ApiException identifierTaken() {
        return ApiException.conflict("IDENTIFIER_TAKEN", "Another live patient has this identifier; an identifier"
                + " names one patient (merge the two, or change the other's first).");
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
            try {
                patients.markRestored(id);
            } catch (DuplicateKeyException e) {
                throw identifierTaken();
            }
            lifecycle.restoreDeletedWith(id, deleted.deletedAt());
        }
        return get(patientId, caller);
    }

    /** {@code carryGrants}: whether whoever was granted the duplicate is granted the patient kept (default no). */
    record MergeRequest(String into, Boolean carryGrants) {
    }

    /**
     * Merges a patient registered twice into the other (admins), as a hospital's ADT merge does: every image of the
     * patient (deleted ones in their recovery window too) and their jobs become the other's, told in the change feed
     * as {@code MOVED}, and the patient is retired (deleted, not restorable; its id answers 404 naming the other).
     * Grants are carried over only when asked ({@code carryGrants}): a clinician granted the duplicate then sees the
     * patient kept, all its images included; otherwise an admin grants it to whoever should see it. The patient kept
     * takes the duplicate's identifier when it has none.
     * 409 LEGAL_HOLD when the patient is held (its images may not move away), 409 PATIENT_BUSY while one of its
     * images is still being stored.
     */
    @PostMapping("/{patientId}/merge")
    @Transactional
    Patient merge(@PathVariable String patientId, @RequestBody(required = false) MergeRequest body, Caller caller) {
        caller.requireAdmin("merge patients");
        if (body == null || body.into() == null) {
            throw ApiException.badRequest("MISSING_PATIENT_ID",
                    "Name the patient to merge this one into: {\"into\": …}.");
        }
        UUID from = Ids.parse(patientId).orElseThrow(() -> notFound(patientId));
        UUID into = Ids.parse(body.into()).orElseThrow(() -> notFound(body.into()));
        if (from.equals(into)) {
            throw ApiException.badRequest("INVALID_MERGE", "A patient cannot be merged into itself.");
        }
        Map<UUID, PatientRepository.Locked> locked = lockBoth(from, into);
        if (locked.values().stream().anyMatch(row -> row.deletedAt() != null)) {
            throw notFound((locked.get(from).deletedAt() != null ? from : into).toString());
        }
        if (locked.get(from).held()) {
            throw LegalHolds.held("Patient " + patientId);
        }
        if (patients.storing(from)) {
            throw new ApiException(HttpStatus.CONFLICT, "PATIENT_BUSY", "Patient " + patientId
                    + " has images still being stored; merge it once their jobs have ended.", true);
        }
        List<UUID> moved = lifecycle.moveAll(from, into);
        List<String> granted = Boolean.TRUE.equals(body.carryGrants()) ? access.carryGrants(from, into, caller.name())
                : List.of();
        Instant now = Timestamps.now();
        patients.markMerged(from, into, now);
        // the patient kept takes the identifier of the one merged away when it has none, as an ADT merge does
        String given = locked.get(into).identifier() == null ? locked.get(from).identifier() : null;
        if (given != null) {
            patients.identify(into, given);
        }
        merges.record(from, new PatientMerges.Merge(into, moved, granted, given), caller.name(), now);
        return get(into.toString(), caller);
    }

    /** Both rows locked, always in the same order, so that two merges (or undoings) of the same two cannot deadlock. */
    private Map<UUID, PatientRepository.Locked> lockBoth(UUID one, UUID other) {
        Map<UUID, PatientRepository.Locked> locked = new HashMap<>();
        for (UUID id : one.compareTo(other) < 0 ? List.of(one, other) : List.of(other, one)) {
            locked.put(id, patients.lock(id).orElseThrow(() -> notFound(id.toString())));
        }
        return locked;
    }

    /** The header of an unmerge's answer that names the patient the images came back from, for the audit record. */
    static final String UNMERGED_FROM = "X-Unmerged-From";

    /**
     * Undoes a merge made by mistake (admins): the patient merged away is live again, with its own grants, the images
     * the merge moved that are still the other's come back with their jobs ({@code MOVED} in the change feed), the
     * grants the merge carried over are revoked, and an identifier it gave the other comes back too. Images moved on
     * since stay where they are. 409 NOT_MERGED for a patient not merged away (or merged before merges were
     * recorded), PATIENT_DELETED while the other is deleted, LEGAL_HOLD while the other is held, PATIENT_BUSY
     * (retryable) while one of the images is being stored again.
     */
    @PostMapping("/{patientId}/unmerge")
    @Transactional
    ResponseEntity<Patient> unmerge(@PathVariable String patientId, Caller caller) {
        caller.requireAdmin("undo merges");
        UUID merged = Ids.parse(patientId).orElseThrow(() -> notFound(patientId));
        UUID into = merges.into(merged).orElseThrow(() -> patients.merged(merged).isPresent()
                || patients.exists(merged) ? notMerged(patientId) : notFound(patientId));
        Map<UUID, PatientRepository.Locked> locked = lockBoth(merged, into);
        PatientMerges.Merge merge = merges.lock(merged).filter(m -> m.into().equals(into))
                .orElseThrow(() -> notMerged(patientId));
        if (locked.get(into).deletedAt() != null) {
            throw ApiException.conflict("PATIENT_DELETED", "Patient " + into + ", which patient " + patientId
                    + " was merged into, is deleted; restore it first.");
        }
        if (locked.get(into).held()) {
            throw LegalHolds.held("Patient " + into);
        }
        if (lifecycle.storing(merge.imageIds())) {
            throw new ApiException(HttpStatus.CONFLICT, "PATIENT_BUSY", "An image of the merge is being stored again;"
                    + " undo the merge once its job has ended.", true);
        }
        lifecycle.moveBack(merge.imageIds(), into, merged);
        access.revokeAll(into, merge.granted());
        if (merge.identifier() != null && merge.identifier().equals(locked.get(into).identifier())) {
            patients.identify(into, null); // the identifier the merge gave goes back with the patient
        }
        try {
            patients.unmarkMerged(merged);
        } catch (DuplicateKeyException e) {
            throw identifierTaken();
        }
        merges.forget(merged);
        return ResponseEntity.ok().header(UNMERGED_FROM, into.toString()).body(get(patientId, caller));
    }

    private static ApiException notMerged(String patientId) {
        return ApiException.conflict("NOT_MERGED", "Patient " + patientId + " is not merged into another by a merge"
                + " this service recorded (merges before migration V23 were not): there is nothing to undo.");
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
