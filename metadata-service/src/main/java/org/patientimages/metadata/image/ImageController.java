package org.patientimages.metadata.image;

import org.patientimages.metadata.patient.PatientRepository;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.UUID;

@RestController
class ImageController {

    private final ImageRepository images;
    private final PatientRepository patients;

    ImageController(ImageRepository images, PatientRepository patients) {
        this.images = images;
        this.patients = patients;
    }

    @GetMapping("/internal/v1/images/{imageId}")
    Image get(@PathVariable String imageId) {
        return Ids.parse(imageId).flatMap(images::find)
                .orElseThrow(() -> ApiException.notFound("IMAGE_NOT_FOUND", "No image with id " + imageId + "."));
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
