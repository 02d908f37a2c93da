package org.patientimages.metadata.image;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.access.PatientAccess;
import org.patientimages.metadata.integrity.IntegrityChecks;

import org.patientimages.metadata.patient.VisiblePatients;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

@RestController
class ImageController {

    private final ImageRepository images;
    private final VisiblePatients visible;
    private final ImageLifecycle lifecycle;
    private final PatientAccess access;
    private final IntegrityChecks integrity;
    private final Studies studies;
    private final Adoptions adoptions;

    ImageController(ImageRepository images, VisiblePatients visible, ImageLifecycle lifecycle, PatientAccess access,
                    IntegrityChecks integrity, Studies studies, Adoptions adoptions) {
        this.images = images;
        this.visible = visible;
        this.lifecycle = lifecycle;
        this.access = access;
        this.integrity = integrity;
        this.studies = studies;
        this.adoptions = adoptions;
    }

    record TagList(List<String> tags) {
    }

    record IdList(List<String> imageIds) {
    }

    /** The most ids {@link #known} takes at once (a page of the object store's listing). */
    static final int MAX_KNOWN = 1000;

    /**
     * Which of these ids are images the service has a row of, whatever their status (a purged image keeps its row):
     * the others' objects in the store are orphans (admins; for the gateway's orphan report).
     */
    @PostMapping("/internal/v1/images/known")
    Map<String, List<String>> known(@RequestBody(required = false) IdList body, Caller caller) {
        caller.requireAdmin("look for orphaned objects");
        if (body == null || body.imageIds() == null || body.imageIds().size() > MAX_KNOWN) {
            throw ApiException.badRequest("INVALID_PARAMETER", "imageIds: up to " + MAX_KNOWN + " image ids.");
        }
        List<UUID> ids = body.imageIds().stream().map(Ids::parse).flatMap(Optional::stream).toList();
        return Map.of("known", images.existing(ids).stream().map(UUID::toString).toList());
    }

    @PutMapping("/internal/v1/images/{imageId}/tags")
    Image replaceTags(@PathVariable String imageId, @RequestBody TagList body, Caller caller) {
        lifecycle.replaceTags(id(imageId, caller), body.tags());
        return get(imageId, caller);
    }

    @PostMapping("/internal/v1/images/{imageId}/tags")
    Image addTags(@PathVariable String imageId, @RequestBody TagList body, Caller caller) {
        lifecycle.addTags(id(imageId, caller), body.tags());
        return get(imageId, caller);
    }

    @DeleteMapping("/internal/v1/images/{imageId}/tags/{tag}")
    ResponseEntity<Void> removeTag(@PathVariable String imageId, @PathVariable String tag, Caller caller) {
        lifecycle.removeTag(id(imageId, caller), tag);
        return ResponseEntity.noContent().build();
    }

    @PatchMapping("/internal/v1/images/{imageId}")
    Image update(@PathVariable String imageId, @RequestBody ImageChanges changes, Caller caller) {
        lifecycle.update(id(imageId, caller), changes);
        return get(imageId, caller);
    }

    /**
     * Deletes an image: a stored one stays restorable for the recovery window. {@code purge=true} (admins) removes its
     * objects at once, also of an image already deleted and still restorable.
     */
    @DeleteMapping("/internal/v1/images/{imageId}")
    ResponseEntity<Void> delete(@PathVariable String imageId, @RequestParam(defaultValue = "false") boolean purge,
                                Caller caller) {
        if (!purge) {
            lifecycle.delete(id(imageId, caller));
            return ResponseEntity.noContent().build();
        }
        caller.requireAdmin("purge images");
        lifecycle.purge(Ids.parse(imageId).orElseThrow(() -> notFound(imageId)));
        return ResponseEntity.noContent().build();
    }

    /** Restores a deleted image in its recovery window (admins); an image that is not deleted is answered as it is. */
    @PostMapping("/internal/v1/images/{imageId}/restore")
    Image restore(@PathVariable String imageId, Caller caller) {
        caller.requireAdmin("restore images");
        lifecycle.restore(Ids.parse(imageId).orElseThrow(() -> notFound(imageId)));
        return get(imageId, caller);
    }

    record Move(String patientId) {
    }

    /** The header of a move's answer that names the patient the image left. */
    static final String MOVED_FROM = "X-Moved-From";

    /**
     * Moves an image to another patient; the caller must see both. The answer's {@code X-Moved-From} names the
     * patient it left, for the audit record.
     */
    @PostMapping("/internal/v1/images/{imageId}/move")
    ResponseEntity<Image> move(@PathVariable String imageId, @RequestBody Move body, Caller caller) {
        UUID id = id(imageId, caller);
        if (body == null || body.patientId() == null) {
            throw ApiException.badRequest("MISSING_PATIENT_ID", "Name the patient to move the image to: {\"patientId\": …}.");
        }
        UUID to = patient(body.patientId(), caller);
        UUID from = lifecycle.move(id, to);
        var answer = ResponseEntity.ok();
        if (!from.equals(to)) {
            answer.header(MOVED_FROM, from.toString());
        }
        return answer.body(get(imageId, caller));
    }

    /** What the gateway read of an original without a row, and the patient an admin gives it to. */
    record Adoption(String patientId, String bucket, String objectKey, String contentType, Long sizeBytes,
                    String sha256, Instant storedAt) {
    }

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /**
     * Gives an image whose row was lost back to a patient, from its original in the bucket (admins; the gateway's
     * adoption of an orphan, which read the object first): 201 with the image, its check and derivation asked for.
     */
    @PostMapping("/internal/v1/images/{imageId}/adoption")
    ResponseEntity<Image> adopt(@PathVariable String imageId, @RequestBody(required = false) Adoption body,
                                Caller caller) {
        caller.requireAdmin("adopt orphaned objects");
        UUID id = Ids.parse(imageId).orElseThrow(() -> notFound(imageId));
        if (body == null || body.patientId() == null) {
            throw ApiException.badRequest("MISSING_PATIENT_ID", "Name the patient to give the image to.");
        }
        UUID patient = patient(body.patientId(), caller);
        boolean valid = body.bucket() != null && BUCKET.matcher(body.bucket()).matches()
                && ("images/" + id + "/original").equals(body.objectKey())
                && body.contentType() != null && CONTENT_TYPE.matcher(body.contentType()).matches()
                && body.sizeBytes() != null && body.sizeBytes() >= 0
                && body.sha256() != null && SHA256.matcher(body.sha256()).matches() && body.storedAt() != null;
        if (!valid) {
            throw ApiException.badRequest("INVALID_ADOPTION", "bucket, objectKey (images/" + id + "/original), "
                    + "contentType, sizeBytes, sha256 (lower-case hex) and storedAt describe the original.");
        }
        adoptions.adopt(id, patient, new Adoptions.Original(body.bucket(), body.objectKey(), body.contentType(),
                body.sizeBytes(), body.sha256(), body.storedAt()));
        return ResponseEntity.status(HttpStatus.CREATED).body(get(imageId, caller));
    }

    /**
     * Records that an admin removes the objects of an orphan (the gateway's removal, before it deletes them): 204, or
     * 409 IMAGE_EXISTS for an id with a row. An adoption of the id is refused from then on.
     */
    @PostMapping("/internal/v1/images/{imageId}/removal")
    ResponseEntity<Void> removing(@PathVariable String imageId, Caller caller) {
        caller.requireAdmin("remove orphaned objects");
        adoptions.removing(Ids.parse(imageId).orElseThrow(() -> notFound(imageId)), caller.name());
        return ResponseEntity.noContent().build();
    }

    /** Asks a worker to read the image's stored bytes back and check them; the outcome shows on the image. */
    @PostMapping("/internal/v1/images/{imageId}/integrity-checks")
    ResponseEntity<Image> checkIntegrity(@PathVariable String imageId, Caller caller) {
        return readBack(imageId, caller, false);
    }

    /**
     * Asks a worker to read the image's attributes and render its thumbnail again from its stored bytes, checking
     * them on the way (admins): for an image stored before the workers could read its format.
     */
    @PostMapping("/internal/v1/images/{imageId}/derivations")
    ResponseEntity<Image> derive(@PathVariable String imageId, Caller caller) {
        caller.requireAdmin("derive images again");
        return readBack(imageId, caller, true);
    }

    /** Asks for the image's bytes to be read back (and derived from): 202 with the image showing the request. */
    private ResponseEntity<Image> readBack(String imageId, Caller caller, boolean derive) {
        integrity.request(UUID.fromString(get(imageId, caller).imageId()), derive);
        return ResponseEntity.accepted().body(get(imageId, caller));
    }

    /**
     * Asks for every available image of a content type and/or a patient (all without either), or only those without
     * a thumbnail, to be derived again (admins): after an upgrade that reads more formats. The workers take them a few
     * at a time.
     */
    @PostMapping("/internal/v1/images/derivations")
    ResponseEntity<Map<String, Integer>> deriveAll(@RequestParam(required = false) String contentType,
                                                   @RequestParam(required = false) String patientId,
                                                   @RequestParam(defaultValue = "false") boolean withoutThumbnail,
                                                   Caller caller) {
        caller.requireAdmin("derive images again");
        if (contentType != null && !CONTENT_TYPE.matcher(contentType).matches()) {
            throw ApiException.badRequest("INVALID_CONTENT_TYPE",
                    "contentType must be one media type without parameters, as images show it (image/png).");
        }
        UUID patient = patientId == null ? null : patient(patientId, caller);
        int requested = integrity.requestDerivations(contentType, patient, withoutThumbnail);
        return ResponseEntity.accepted().body(Map.of("requested", requested));
    }

    /** A media type as the gateway's sniffing records it: type/subtype, lower case, no parameters. */
    private static final Pattern CONTENT_TYPE =
            Pattern.compile("[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}");

    /** The id of an image the caller may see; 404 otherwise (for a gone image, from the lifecycle's own check). */
    private UUID id(String imageId, Caller caller) {
        UUID id = Ids.parse(imageId).orElseThrow(() -> notFound(imageId));
        if (caller.restricted()) {
            UUID patient = images.patientOf(id).orElseThrow(() -> notFound(imageId));
            access.require(caller, patient, () -> notFound(imageId));
        }
        return id;
    }

    private static ApiException notFound(String imageId) {
        return ApiException.notFound("IMAGE_NOT_FOUND", "No image with id " + imageId + ".");
    }

    @GetMapping("/internal/v1/images/{imageId}")
    Image get(@PathVariable String imageId, Caller caller) {
        Image image = Ids.parse(imageId).flatMap(images::find).orElseThrow(() -> notFound(imageId));
        access.require(caller, UUID.fromString(image.patientId()), () -> notFound(imageId));
        return image;
    }

    @GetMapping("/internal/v1/images")
    Page<Image> search(@RequestParam MultiValueMap<String, String> params, Caller caller) {
        return page(ImageSearch.parse(params, null), caller);
    }

    @GetMapping("/internal/v1/patients/{patientId}/images")
    Page<Image> ofPatient(@PathVariable String patientId, @RequestParam MultiValueMap<String, String> params,
                          Caller caller) {
        return page(ImageSearch.parse(params, patient(patientId, caller)), caller);
    }

    /** The patient's DICOM studies with their series, newest first. */
    @GetMapping("/internal/v1/patients/{patientId}/studies")
    Page<Studies.Study> studies(@PathVariable String patientId, @RequestParam(required = false) Integer limit,
                                @RequestParam(required = false) String cursor, Caller caller) {
        return studies.matching(Studies.Filter.ofPatient(patient(patientId, caller)), Paging.limit(limit), cursor);
    }

    /**
     * DICOM studies across the patients the caller may see, by the PatientID their files carry, their UIDs or the
     * dates they were taken: a DICOMweb search across patients. With none of these, the latest received first.
     */
    @GetMapping("/internal/v1/studies")
    Page<Studies.Study> studiesAcross(@RequestParam MultiValueMap<String, String> params, Caller caller) {
        Studies.Filter filter = Studies.Filter.parse(params, caller.restricted() ? caller.name() : null);
        int limit = Paging.limit(params.getFirst("limit") == null ? null : parseLimit(params.getFirst("limit")));
        return filter.narrows() ? studies.matching(filter, limit, params.getFirst("cursor"))
                : studies.latest(filter.grantee(), limit, params.getFirst("cursor"));
    }

    private static Integer parseLimit(String limit) {
        try {
            return Integer.valueOf(limit);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("INVALID_LIMIT", "limit must be a whole number.");
        }
    }

    private UUID patient(String patientId, Caller caller) {
        return visible.require(patientId, caller);
    }

    private Page<Image> page(ImageSearch search, Caller caller) {
        if (search.deleted()) {
            caller.requireAdmin("list deleted images");
        }
        if (caller.restricted()) {
            search = search.grantedTo(caller.name());
        }
        Page<ImageRepository.Row> page = Paging.page(images.search(search), search.limit(), ImageRepository.Row::cursor);
        return new Page<>(page.items().stream().map(ImageRepository.Row::image).toList(), page.nextCursor());
    }
}
