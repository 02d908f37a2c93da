package org.patientimages.metadata.upload;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

@RestController
class UploadController {

    private final UploadRegistrar registrar;

    UploadController(UploadRegistrar registrar) {
        this.registrar = registrar;
    }

    /** 201 for a new upload, 200 when the idempotency key named an earlier one. */
    @PostMapping("/internal/v1/uploads")
    ResponseEntity<UploadRegistered> register(@RequestBody UploadRegistration registration) {
        UploadRegistered result = registrar.register(registration);
        return ResponseEntity.status(result.replayed() ? HttpStatus.OK : HttpStatus.CREATED).body(result);
    }
}
