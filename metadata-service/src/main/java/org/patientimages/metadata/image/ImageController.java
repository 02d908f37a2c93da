package org.patientimages.metadata.image;

import org.patientimages.metadata.patient.PatientRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
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

import java.util.List;
import java.util.UUID;

@RestController
class ImageController {

    private final ImageRepository images;
    private final PatientRepository patients;
    private final ImageLifecycle lifecycle;

    ImageController(ImageRepository images, PatientRepository patients, ImageLifecycle lifecycle) {
        this.images = images;
        this.patients = patients;
        this.lifecycle = lifecycle;
    }

    record TagList(List<String> tags) {
    }

    @PutMapping("/internal/v1/images/{imageId}/tags")
    Image replaceTags(@PathVariable String imageId, @RequestBody TagList body) {
        lifecycle.replaceTags(id(imageId), body.tags());
        return get(imageId);
    }

    @PostMapping("/internal/v1/images/{imageId}/tags")
    Image addTags(@PathVariable String imageId, @RequestBody TagList body) {
        lifecycle.addTags(id(imageId), body.tags());
        return get(imageId);
    }

    @DeleteMapping("/internal/v1/images/{imageId}/tags/{tag}")
    ResponseEntity<Void> removeTag(@PathVariable String imageId, @PathVariable String tag) {
        lifecycle.removeTag(id(imageId), tag);
        return ResponseEntity.noContent().build();
    }

    @PatchMapping("/internal/v1/images/{imageId}")
    Image update(@PathVariable String imageId, @RequestBody ImageChanges changes) {
        lifecycle.update(id(imageId), changes);
        return get(imageId);
    }

    @DeleteMapping("/internal/v1/images/{imageId}")
    ResponseEntity<Void> delete(@PathVariable String imageId) {
        lifecycle.delete(id(imageId));
        return ResponseEntity.noContent().build();
    }

    private static UUID id(String imageId) {
        return Ids.parse(imageId).orElseThrow(() -> notFound(imageId));
    }

    private static ApiException notFound(String imageId) {
        return ApiException.notFound("IMAGE_NOT_FOUND", "No image with id " + imageId + ".");
    }

    @GetMapping("/internal/v1/images/{imageId}")
    Image get(@PathVariable String imageId) {
        return Ids.parse(imageId).flatMap(images::find).orElseThrow(() -> notFound(imageId));
    }

    @GetMapping("/internal/v1/images")
    Page<Image> search(@RequestParam MultiValueMap<String, String> params) {
        return page(ImageSearch.parse(params, null));
    }

    @GetMapping("/internal/v1/patients/{patientId}/images")
    Page<Image> ofPatient(@PathVariable String patientId, @RequestParam MultiValueMap<String, String> params) {
        UUID id = Ids.parse(patientId).filter(patients::exists)
                .orElseThrow(() -> ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + patientId + "."));
        return page(ImageSearch.parse(params, id));
    }

    private Page<Image> page(ImageSearch search) {
        Page<ImageRepository.Row> page = Paging.page(images.search(search), search.limit(), ImageRepository.Row::cursor);
        return new Page<>(page.items().stream().map(ImageRepository.Row::image).toList(), page.nextCursor());
    }
}
