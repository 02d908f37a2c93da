package org.patientimages.metadata.patient;

import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Ids;
import org.patientimages.metadata.web.Page;
import org.patientimages.metadata.web.Paging;
import org.patientimages.metadata.web.Timestamps;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;
import java.util.UUID;

@RestController
@RequestMapping("/internal/v1/patients")
class PatientController {

    private final PatientRepository patients;

    PatientController(PatientRepository patients) {
        this.patients = patients;
    }

    @PostMapping
    ResponseEntity<Patient> create(@RequestBody NewPatient request) {
        NewPatient p = request.validated();
        var row = new PatientRepository.Row(UUID.randomUUID(), p.name(), p.username(), Timestamps.now());
        try {
            patients.insert(row);
        } catch (DuplicateKeyException e) {
            throw ApiException.conflict("USERNAME_TAKEN", "username '" + p.username() + "' is already taken.");
        }
        return ResponseEntity.created(URI.create("/v1/patients/" + row.id())).body(row.toApi());
    }

    @GetMapping("/{patientId}")
    Patient get(@PathVariable String patientId) {
        return Ids.parse(patientId).flatMap(patients::find)
                .map(PatientRepository.Row::toApi)
                .orElseThrow(() -> notFound(patientId));
    }

    @GetMapping
    Page<Patient> list(@RequestParam(required = false) String username,
                       @RequestParam(required = false) Integer limit,
                       @RequestParam(required = false) String cursor) {
        int n = Paging.limit(limit);
        var rows = patients.list(username, Paging.after(cursor), n);
        Page<PatientRepository.Row> page = Paging.page(rows, n, PatientRepository.Row::cursor);
        return new Page<>(page.items().stream().map(PatientRepository.Row::toApi).toList(), page.nextCursor());
    }

    static ApiException notFound(String patientId) {
        return ApiException.notFound("PATIENT_NOT_FOUND", "No patient with id " + patientId + ".");
    }
}
