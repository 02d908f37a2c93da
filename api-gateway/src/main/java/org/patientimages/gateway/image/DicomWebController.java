package org.patientimages.gateway.image;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/**
 * The DICOMweb search (QIDO-RS, PS3.18 §10.6) and retrieve (WADO-RS, §10.4) transactions at the patient's DICOMweb
 * root, {@code /v1/patients/{patientId}/dicomweb}: how a PACS or a DICOMweb client finds the patient's studies and
 * pulls them. The search answers from the studies' grouping and the images' attributes ({@link DicomJson}); the
 * retrieval streams the stored files as the parts of a {@code multipart/related} body, each checked against its
 * SHA-256 on its way as an archive's entries are ({@link ImageArchive}). The store transaction is the upload
 * controller's.
 */
@RestController
class DicomWebController {

    private static final String ROOT = "/v1/patients/{patientId}/dicomweb";
    private static final MediaType DICOM_JSON = MediaType.parseMediaType("application/dicom+json");
    private static final MediaType DICOM = MediaType.parseMediaType("application/dicom");
    private static final Pattern UID = Pattern.compile("[0-9]+(\\.[0-9]+)*");
    private static final int STUDIES_PAGE = 500;

    private final MetadataClient metadata;
    private final ImageArchive archive;

    DicomWebController(MetadataClient metadata, ImageArchive archive) {
        this.metadata = metadata;
        this.archive = archive;
    }

    @GetMapping(ROOT + "/studies")
    ResponseEntity<List<Map<String, Object>>> studies(@PathVariable String patientId,
                                                      @RequestParam MultiValueMap<String, String> query,
                                                      HttpServletRequest request) {
        DicomJson.Query search = DicomJson.query(query, DicomJson.Level.STUDY);
        String base = base(request, patientId);
        List<Map<String, Object>> studies = new ArrayList<>();
        studies(patientId).forEach(study -> studies.add(DicomJson.study(study, base)));
        return found(request, search.apply(studies));
    }

    @GetMapping(ROOT + "/studies/{study}/series")
    ResponseEntity<List<Map<String, Object>>> series(@PathVariable String patientId, @PathVariable String study,
                                                     @RequestParam MultiValueMap<String, String> query,
                                                     HttpServletRequest request) {
        uid(study);
        DicomJson.Query search = DicomJson.query(query, DicomJson.Level.SERIES);
        String base = base(request, patientId);
        List<Map<String, Object>> series = new ArrayList<>();
        for (JsonNode each : studies(patientId)) {
            if (each.path("studyInstanceUid").asString().equals(study)) {
                each.path("series").forEach(s -> {
                    if (s.path("seriesInstanceUid").isString()) {
                        series.add(DicomJson.series(each, s, base));
                    }
                });
            }
        }
        return found(request, search.apply(series));
    }

    @GetMapping(ROOT + "/studies/{study}/instances")
    ResponseEntity<List<Map<String, Object>>> studyInstances(@PathVariable String patientId,
                                                             @PathVariable String study,
                                                             @RequestParam MultiValueMap<String, String> query,
                                                             HttpServletRequest request) {
        return instances(patientId, uid(study), null, query, request);
    }

    @GetMapping(ROOT + "/studies/{study}/series/{series}/instances")
    ResponseEntity<List<Map<String, Object>>> seriesInstances(@PathVariable String patientId,
                                                              @PathVariable String study, @PathVariable String series,
                                                              @RequestParam MultiValueMap<String, String> query,
                                                              HttpServletRequest request) {
        return instances(patientId, uid(study), uid(series), query, request);
    }

    private ResponseEntity<List<Map<String, Object>>> instances(String patientId, String study, String series,
                                                                MultiValueMap<String, String> query,
                                                                HttpServletRequest request) {
        DicomJson.Query search = DicomJson.query(query, DicomJson.Level.INSTANCE);
        String base = base(request, patientId);
        List<Map<String, Object>> instances = new ArrayList<>();
        archive.images(patientId, filters(study, series, null))
                .forEach(image -> instances.add(DicomJson.instance(image, base)));
        return found(request, search.apply(instances));
    }

    @GetMapping(ROOT + "/studies/{study}")
    void retrieveStudy(@PathVariable String patientId, @PathVariable String study, HttpServletRequest request,
                       HttpServletResponse response) throws IOException {
        retrieve(patientId, filters(uid(study), null, null), "study", request, response);
    }

    @GetMapping(ROOT + "/studies/{study}/series/{series}")
    void retrieveSeries(@PathVariable String patientId, @PathVariable String study, @PathVariable String series,
                        HttpServletRequest request, HttpServletResponse response) throws IOException {
        retrieve(patientId, filters(uid(study), uid(series), null), "series", request, response);
    }

    @GetMapping(ROOT + "/studies/{study}/series/{series}/instances/{instance}")
    void retrieveInstance(@PathVariable String patientId, @PathVariable String study, @PathVariable String series,
                          @PathVariable String instance, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        retrieve(patientId, filters(uid(study), uid(series), uid(instance)), "instance", request, response);
    }

    /**
     * The stored files of what the filters name, as they were uploaded (no transcoding: each part names its
     * transfer syntax), or {@code 404} when there is none; {@code 406} when the client takes no
     * {@code multipart/related} of {@code application/dicom}.
     */
    private void retrieve(String patientId, MultiValueMap<String, String> filters, String what,
                          HttpServletRequest request, HttpServletResponse response) throws IOException {
        requireDicomParts(request.getHeader(HttpHeaders.ACCEPT));
        List<ImageArchive.Item> items = archive.items(patientId, filters);
        if (items.isEmpty()) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, what.toUpperCase() + "_NOT_FOUND",
                    "The patient has no available DICOM " + what + " of these UIDs.", false);
        }
        String boundary = UUID.randomUUID().toString();
        AtomicBoolean started = new AtomicBoolean();
        try {
            archive.writeParts(items, response.getOutputStream(), boundary, () -> {
                started.set(true);
                response.setContentType("multipart/related; type=\"application/dicom\"; boundary=" + boundary);
            });
        } catch (IOException e) {
            throw ImageController.failed(response, started.get(), e);
        }
    }

    /** The client takes {@code multipart/related; type="application/dicom"} (or anything). */
    private static void requireDicomParts(String accept) {
        if (accept == null || accept.isBlank()) {
            return;
        }
        try {
            for (MediaType type : MediaType.parseMediaTypes(accept)) {
                String parts = type.getParameter("type");
                if (type.isWildcardType() || type.getType().equals("multipart") && (type.isWildcardSubtype()
                        || type.getSubtype().equals("related") && (parts == null
                        || DICOM.equalsTypeAndSubtype(MediaType.parseMediaType(parts.replace("\"", "")))))) {
                    return;
                }
            }
        } catch (InvalidMediaTypeException e) {
            // refused below
        }
        throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "Instances are retrieved as "
                + "multipart/related; type=\"application/dicom\" (as stored: no rendered or bulk data media types).",
                false);
    }

    /** Every study of the patient's studies grouping, all its pages. */
    private List<JsonNode> studies(String patientId) {
        List<JsonNode> studies = new ArrayList<>();
        MultiValueMap<String, String> query = new LinkedMultiValueMap<>();
        query.set("limit", Integer.toString(STUDIES_PAGE));
        String cursor;
        do {
            JsonNode page = metadata.page("/internal/v1/patients/{id}/studies", query, patientId);
            page.path("items").forEach(studies::add);
            cursor = page.path("nextCursor").isString() ? page.path("nextCursor").asString() : null;
            query.set("cursor", cursor);
        } while (cursor != null);
        return studies;
    }

    private static MultiValueMap<String, String> filters(String study, String series, String instance) {
        MultiValueMap<String, String> filters = new LinkedMultiValueMap<>();
        filters.set("studyInstanceUid", study);
        if (series != null) {
            filters.set("seriesInstanceUid", series);
        }
        if (instance != null) {
            filters.set("sopInstanceUid", instance);
        }
        filters.set("sort", "uploadedAt"); // in the order they arrived
        filters.set("order", "asc");
        return filters;
    }

    /** The DICOMweb root of the patient, absolute, as the client reached it (retrieve URLs are under it). */
    private static String base(HttpServletRequest request, String patientId) {
        String url = request.getRequestURL().toString();
        return url.substring(0, url.indexOf("/v1/patients/")) + ROOT.replace("{patientId}", patientId);
    }

    private static String uid(String uid) {
        if (uid.length() > 64 || !UID.matcher(uid).matches()) {
            throw ApiProblem.badRequest("INVALID_PARAMETER", "A UID is at most 64 digits and dots, not '"
                    + (uid.length() > 64 ? uid.substring(0, 64) + "…" : uid) + "'.");
        }
        return uid;
    }

    /** A search's answer, in the DICOM JSON model, or as {@code application/json} to a client that takes only that. */
    private static ResponseEntity<List<Map<String, Object>>> found(HttpServletRequest request,
                                                                   List<Map<String, Object>> objects) {
        String accept = request.getHeader(HttpHeaders.ACCEPT);
        MediaType type = DICOM_JSON;
        if (accept != null && !accept.isBlank()) {
            List<MediaType> accepted;
            try {
                accepted = MediaType.parseMediaTypes(accept);
            } catch (InvalidMediaTypeException e) {
                accepted = List.of();
            }
            if (accepted.stream().noneMatch(a -> a.includes(DICOM_JSON))) {
                if (accepted.stream().noneMatch(a -> a.includes(MediaType.APPLICATION_JSON))) {
                    throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE",
                            "Search results are application/dicom+json (DICOM XML is not offered).", false);
                }
                type = MediaType.APPLICATION_JSON;
            }
        }
        return ResponseEntity.ok().contentType(type).body(objects);
    }
}
