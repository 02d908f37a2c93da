package org.patientimages.gateway.image;

import org.patientimages.gateway.audit.AuditContext;
import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.storage.DownloadLinks;
import org.patientimages.gateway.storage.Orphans;
import org.patientimages.gateway.web.ApiProblem;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
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
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** Images as clients see them: where the object lives stays hidden; downloads are presigned URLs. */
@RestController
class ImageController {

    private final MetadataClient metadata;
    private final DownloadLinks links;
    private final ImageArchive archive;
    private final Orphans orphans;

    ImageController(MetadataClient metadata, DownloadLinks links, ImageArchive archive, Orphans orphans) {
        this.metadata = metadata;
        this.links = links;
        this.archive = archive;
        this.orphans = orphans;
    }

    @GetMapping("/v1/images/{imageId}")
    JsonNode image(@PathVariable String imageId) {
        return publicView((ObjectNode) metadata.get("/internal/v1/images/{id}", imageId), false);
    }

    @GetMapping("/v1/images/{imageId}/content")
    ResponseEntity<Void> content(@PathVariable String imageId) {
        JsonNode image = metadata.get("/internal/v1/images/{id}", imageId);
        requireAvailable(image, imageId, "its content");
        return ResponseEntity.status(HttpStatus.FOUND).location(URI.create(downloadUrl(image))).build();
    }

    private static void requireAvailable(JsonNode image, String imageId, String what) {
        String status = image.path("status").asString();
        if (!"AVAILABLE".equals(status)) {
            throw new ApiProblem(HttpStatus.CONFLICT, "IMAGE_NOT_AVAILABLE",
                    "Image " + imageId + " is " + status + "; " + what + " can be downloaded once it is AVAILABLE.",
                    !"FAILED".equals(status));
        }
    }

    /** The thumbnail: a PNG at most 256 px on its long side, shown inline. */
    @GetMapping("/v1/images/{imageId}/thumbnail")
    ResponseEntity<Void> thumbnail(@PathVariable String imageId) {
        JsonNode image = metadata.get("/internal/v1/images/{id}", imageId);
        requireAvailable(image, imageId, "its thumbnail");
        if (image.path("thumbnailKey").isNull() || image.path("thumbnailKey").isMissingNode()) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, "THUMBNAIL_UNAVAILABLE",
                    "Image " + imageId + " has no thumbnail: its format cannot be rendered.", false);
        }
        return ResponseEntity.status(HttpStatus.FOUND).location(URI.create(thumbnailUrl(image))).build();
    }

    @GetMapping("/v1/patients/{patientId}/images")
    JsonNode patientImages(@PathVariable String patientId, @RequestParam MultiValueMap<String, String> query) {
        return withDownloadUrls(metadata.page("/internal/v1/patients/{id}/images", query, patientId));
    }

    /**
     * The patient's available images that pass the search's filters, as one ZIP streamed from the store; a damaged
     * object ends it unfinished (the connection is closed before the archive's end).
     */
    @GetMapping("/v1/patients/{patientId}/images/archive")
    void archive(@PathVariable String patientId, @RequestParam MultiValueMap<String, String> query,
                 HttpServletResponse response) throws IOException {
        List<ImageArchive.Item> items = archive.items(patientId, query);
        AtomicBoolean started = new AtomicBoolean();
        try {
            archive.write(items, response.getOutputStream(), () -> {
                started.set(true);
                response.setContentType("application/zip");
                response.setHeader(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment()
                        .filename("patient-" + patientId + "-images.zip").build().toString());
            });
        } catch (IOException e) {
            throw failed(response, started.get(), e);
        }
    }

    /**
     * What a streamed answer's failure becomes: once {@code started}, the answer is given up on (see
     * {@link #abort}); before, a damaged image is {@code 500 STORED_IMAGE_DAMAGED} and a store that cannot be read
     * {@code 503}, thrown from here.
     */
    static IOException failed(HttpServletResponse response, boolean started, IOException e) {
        if (started) {
            return abort(response, e);
        }
        throw e instanceof ImageArchive.Damaged damaged
                ? new ApiProblem(HttpStatus.INTERNAL_SERVER_ERROR, "STORED_IMAGE_DAMAGED", "The stored bytes of image "
                        + damaged.imageId + " are not the ones uploaded; an admin can check its integrity.", false)
                : new ApiProblem(HttpStatus.SERVICE_UNAVAILABLE, "STORAGE_UNAVAILABLE",
                        "The object store cannot be read right now.", true);
    }

    /**
     * Sends what was written and gives up: the answer is committed, so the container closes the connection instead
     * of ending the archive, and the client sees it unfinished.
     */
    private static IOException abort(HttpServletResponse response, IOException cause) {
        try {
            response.flushBuffer();
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
        return cause;
    }

    @GetMapping("/v1/images")
    JsonNode search(@RequestParam MultiValueMap<String, String> query) {
        return withDownloadUrls(metadata.page("/internal/v1/images", query));
    }

    @PutMapping(path = "/v1/images/{imageId}/tags", consumes = MediaType.APPLICATION_JSON_VALUE)
    JsonNode replaceTags(@PathVariable String imageId, @RequestBody JsonNode body) {
        return changed(HttpMethod.PUT, "/internal/v1/images/{id}/tags", body, imageId);
    }

    @PostMapping(path = "/v1/images/{imageId}/tags", consumes = MediaType.APPLICATION_JSON_VALUE)
    JsonNode addTags(@PathVariable String imageId, @RequestBody JsonNode body) {
        return changed(HttpMethod.POST, "/internal/v1/images/{id}/tags", body, imageId);
    }

    @DeleteMapping("/v1/images/{imageId}/tags/{tag}")
    ResponseEntity<Void> removeTag(@PathVariable String imageId, @PathVariable String tag) {
        metadata.exchange(HttpMethod.DELETE, "/internal/v1/images/{id}/tags/{tag}", null, imageId, tag);
        return ResponseEntity.noContent().build();
    }

    @PatchMapping(path = "/v1/images/{imageId}", consumes = MediaType.APPLICATION_JSON_VALUE)
    JsonNode update(@PathVariable String imageId, @RequestBody JsonNode body) {
        return changed(HttpMethod.PATCH, "/internal/v1/images/{id}", body, imageId);
    }

    /** Deletes an image: restorable for the recovery window, or with {@code purge=true} (admins) gone at once. */
    @DeleteMapping("/v1/images/{imageId}")
    ResponseEntity<Void> delete(@PathVariable String imageId, @RequestParam(defaultValue = "false") boolean purge) {
        metadata.exchange(HttpMethod.DELETE, "/internal/v1/images/{id}?purge={purge}", null, imageId, purge);
        return ResponseEntity.noContent().build();
    }

    /** Restores a deleted image in its recovery window (admins). */
    @PostMapping("/v1/images/{imageId}/restore")
    JsonNode restore(@PathVariable String imageId) {
        return changed(HttpMethod.POST, "/internal/v1/images/{id}/restore", null, imageId);
    }

    /**
     * Moves an image to another patient (it was uploaded for the wrong one); the caller must see both. The audit
     * record names the patient it went to and, as its related patient, the one it left.
     */
    @PostMapping(path = "/v1/images/{imageId}/move", consumes = MediaType.APPLICATION_JSON_VALUE)
    JsonNode move(@PathVariable String imageId, @RequestBody JsonNode body) {
        ResponseEntity<JsonNode> moved = metadata.exchange(HttpMethod.POST, "/internal/v1/images/{id}/move", body, imageId);
        AuditContext.noteRelatedPatient(moved.getHeaders().getFirst("X-Moved-From"));
        return publicView(moved);
    }

    /**
     * Gives the image of an original that the orphan report found without its record back to a patient (admins):
     * {@code {"patientId": …}}, or without it the patient the original was uploaded for. 201 with the image, at its
     * {@code Location}; its bytes are checked and its attributes and thumbnail derived again, as the image shows.
     */
    @PostMapping("/v1/storage/orphans/{imageId}/adopt")
    ResponseEntity<JsonNode> adopt(@PathVariable String imageId, @RequestBody(required = false) JsonNode body) {
        JsonNode patientId = body == null ? null : body.get("patientId");
        if (patientId != null && !patientId.isNull() && !patientId.isString()) {
            throw new ApiProblem(HttpStatus.BAD_REQUEST, "INVALID_PATIENT_ID", "patientId must be a string.", false);
        }
        String patient = patientId != null && patientId.isString() ? patientId.asString() : null;
        return ResponseEntity.created(URI.create("/v1/images/" + imageId))
                .body(publicView(orphans.adopt(imageId, patient)));
    }

    /** Asks for the stored bytes to be read back and checked against their SHA-256; the image shows the outcome. */
    @PostMapping("/v1/images/{imageId}/integrity-checks")
    ResponseEntity<JsonNode> checkIntegrity(@PathVariable String imageId) {
        return askedFor("/internal/v1/images/{id}/integrity-checks", imageId);
    }

    /** Asks for the image's attributes and thumbnail to be read again from its stored bytes (admins). */
    @PostMapping("/v1/images/{imageId}/derivations")
    ResponseEntity<JsonNode> derive(@PathVariable String imageId) {
        return askedFor("/internal/v1/images/{id}/derivations", imageId);
    }

    /** 202 with the image, at its {@code Location}, where the outcome of what was asked for shows. */
    private ResponseEntity<JsonNode> askedFor(String path, String imageId) {
        return ResponseEntity.accepted().location(URI.create("/v1/images/" + imageId))
                .body(changed(HttpMethod.POST, path, null, imageId));
    }

    /**
     * Asks for the available images of a content type and/or a patient (all without either) to be derived again
     * (admins; the metadata-service checks the parameters); the audit record names the patient.
     */
    @PostMapping("/v1/images/derivations")
    ResponseEntity<JsonNode> deriveAll(@RequestParam MultiValueMap<String, String> query) {
        return ResponseEntity.accepted().body(metadata.post("/internal/v1/images/derivations", query).getBody());
    }

    private JsonNode changed(HttpMethod method, String path, JsonNode body, String imageId) {
        return publicView(metadata.exchange(method, path, body, imageId));
    }

    /** The image a change answered, as clients see it. */
    private ObjectNode publicView(ResponseEntity<JsonNode> answer) {
        return publicView((ObjectNode) answer.getBody(), false);
    }

    private JsonNode withDownloadUrls(JsonNode page) {
        page.path("items").forEach(item -> publicView((ObjectNode) item, true));
        return page;
    }

    private ObjectNode publicView(ObjectNode image, boolean withDownloadUrls) {
        boolean available = "AVAILABLE".equals(image.path("status").asString());
        boolean hasThumbnail = available && image.hasNonNull("thumbnailKey");
        if (withDownloadUrls) {
            image.put("downloadUrl", available ? downloadUrl(image) : null);
            image.put("thumbnailUrl", hasThumbnail ? thumbnailUrl(image) : null);
        }
        image.put("hasThumbnail", hasThumbnail);
        image.remove("bucket");
        image.remove("objectKey");
        image.remove("thumbnailKey");
        return image;
    }

    private String thumbnailUrl(JsonNode image) {
        return links.presignInline(image.path("bucket").asString(), image.path("thumbnailKey").asString(), "image/png");
    }

    private String downloadUrl(JsonNode image) {
        return links.presign(image.path("bucket").asString(), image.path("objectKey").asString(),
                image.path("contentType").asString());
    }
}
