package org.patientimages.gateway.image;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.patientimages.gateway.audit.AuditContext;
import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.web.ApiProblem;
import org.patientimages.gateway.web.MediaTypes;
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
 * The DICOMweb search (QIDO-RS, PS3.18 §10.6) and retrieve (WADO-RS, §10.4) transactions at a patient's DICOMweb
 * root, {@code /v1/patients/{patientId}/dicomweb}, and at the service's, {@code /v1/dicomweb}, across the patients
 * the caller may see (where a PACS finds a person's studies by the PatientID their files carry): how a PACS or a
 * DICOMweb client finds studies and pulls them. The search answers from the studies' grouping and the images'
 * attributes ({@link DicomJson}); the retrieval streams the stored files as the parts of a
 * {@code multipart/related} body, each checked against its SHA-256 on its way as an archive's entries are
 * ({@link ImageArchive}). The store transaction is the upload controller's.
 */
@RestController
class DicomWebController {

    private static final String ROOT = "/v1/patients/{patientId}/dicomweb";
    private static final String SERVICE_ROOT = "/v1/dicomweb";
    private static final String STUDY = "/studies/{study}";
    private static final String SERIES = STUDY + "/series/{series}";
    /** The study-level keys that narrow a search at the service's root (the whole archive is not listed). */
    private static final List<String> NARROWING = List.of("PatientID", "00100020", "StudyInstanceUID", "0020000D",
            "StudyDate", "00080020");
    private static final MediaType DICOM_JSON = MediaType.parseMediaType("application/dicom+json");
    private static final Pattern UID = Pattern.compile("[0-9]+(\\.[0-9]+)*");
    private static final int STUDIES_PAGE = 500;
    private static final int MAX_STUDIES = 10_000;

    private final MetadataClient metadata;
    private final ImageArchive archive;

    DicomWebController(MetadataClient metadata, ImageArchive archive) {
        this.metadata = metadata;
        this.archive = archive;
    }

    @GetMapping({ROOT + "/studies", SERVICE_ROOT + "/studies"})
    ResponseEntity<List<Map<String, Object>>> studies(@PathVariable(required = false) String patientId,
                                                      @RequestParam MultiValueMap<String, String> query,
                                                      HttpServletRequest request) {
        DicomJson.Query search = DicomJson.query(query, DicomJson.Level.STUDY);
        if (patientId == null && NARROWING.stream().noneMatch(key -> !query.getOrDefault(key, List.of()).isEmpty()
                && !query.getFirst(key).isEmpty())) {
            throw ApiProblem.badRequest("STUDY_FILTER_REQUIRED", "At the service's DICOMweb root, studies are found"
                    + " by PatientID, StudyInstanceUID or StudyDate; the whole archive is not listed.");
        }
        String base = base(request, patientId);
        List<Map<String, Object>> studies = new ArrayList<>();
        studies(patientId, search.narrowing()).forEach(study -> studies.add(DicomJson.study(study, base)));
        return found(request, search.apply(studies));
    }

    @GetMapping({ROOT + STUDY + "/series", SERVICE_ROOT + STUDY + "/series"})
    ResponseEntity<List<Map<String, Object>>> series(@PathVariable(required = false) String patientId,
                                                     @PathVariable String study,
                                                     @RequestParam MultiValueMap<String, String> query,
                                                     HttpServletRequest request) {
        uid(study);
        DicomJson.Query search = DicomJson.query(query, DicomJson.Level.SERIES);
        String base = base(request, patientId);
        List<Map<String, Object>> series = new ArrayList<>();
        for (JsonNode each : studies(patientId, Map.of("studyInstanceUid", List.of(study)))) {
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

    /**
     * Instances at a root, by their UIDs (what a PACS asks to learn whether an instance is here): a patient's DICOM
     * images, or across patients, where a SOPInstanceUID, SeriesInstanceUID or StudyInstanceUID must narrow it.
     */
    @GetMapping({ROOT + "/instances", SERVICE_ROOT + "/instances"})
    ResponseEntity<List<Map<String, Object>>> anyInstances(@PathVariable(required = false) String patientId,
                                                           @RequestParam MultiValueMap<String, String> query,
                                                           HttpServletRequest request) {
        DicomJson.Query search = DicomJson.query(query, DicomJson.Level.ANY_INSTANCE);
        Map<String, String> narrowing = search.instanceFilters();
        if (patientId == null && narrowing.isEmpty()) {
            throw ApiProblem.badRequest("INSTANCE_FILTER_REQUIRED", "At the service's DICOMweb root, instances are"
                    + " found by one SOPInstanceUID, SeriesInstanceUID or StudyInstanceUID.");
        }
        MultiValueMap<String, String> filters = filters(null, null, null);
        narrowing.forEach(filters::set);
        filters.set("contentType", "application/dicom");
        return instances(patientId, filters, search, request);
    }

    @GetMapping({ROOT + STUDY + "/instances", SERVICE_ROOT + STUDY + "/instances"})
    ResponseEntity<List<Map<String, Object>>> studyInstances(@PathVariable(required = false) String patientId,
                                                             @PathVariable String study,
                                                             @RequestParam MultiValueMap<String, String> query,
                                                             HttpServletRequest request) {
        return instances(patientId, uid(study), null, query, request);
    }

    @GetMapping({ROOT + SERIES + "/instances", SERVICE_ROOT + SERIES + "/instances"})
    ResponseEntity<List<Map<String, Object>>> seriesInstances(@PathVariable(required = false) String patientId,
                                                              @PathVariable String study, @PathVariable String series,
                                                              @RequestParam MultiValueMap<String, String> query,
                                                              HttpServletRequest request) {
        return instances(patientId, uid(study), uid(series), query, request);
    }

    private ResponseEntity<List<Map<String, Object>>> instances(String patientId, String study, String series,
                                                                MultiValueMap<String, String> query,
                                                                HttpServletRequest request) {
        return instances(patientId, filters(study, series, null), DicomJson.query(query, DicomJson.Level.INSTANCE),
                request);
    }

    private ResponseEntity<List<Map<String, Object>>> instances(String patientId,
                                                                MultiValueMap<String, String> filters,
                                                                DicomJson.Query search, HttpServletRequest request) {
        String base = base(request, patientId);
        List<Map<String, Object>> instances = new ArrayList<>();
        archive.images(patientId, filters).forEach(image -> instances.add(DicomJson.instance(image, base)));
        return found(request, search.apply(instances));
    }

    @GetMapping({ROOT + STUDY, SERVICE_ROOT + STUDY})
    void retrieveStudy(@PathVariable(required = false) String patientId, @PathVariable String study,
                       HttpServletRequest request, HttpServletResponse response) throws IOException {
        retrieve(patientId, filters(uid(study), null, null), "study", request, response);
    }

    @GetMapping({ROOT + SERIES, SERVICE_ROOT + SERIES})
    void retrieveSeries(@PathVariable(required = false) String patientId, @PathVariable String study,
                        @PathVariable String series, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        retrieve(patientId, filters(uid(study), uid(series), null), "series", request, response);
    }

    @GetMapping({ROOT + SERIES + "/instances/{instance}", SERVICE_ROOT + SERIES + "/instances/{instance}"})
    void retrieveInstance(@PathVariable(required = false) String patientId, @PathVariable String study,
                          @PathVariable String series, @PathVariable String instance, HttpServletRequest request,
                          HttpServletResponse response) throws IOException {
        retrieve(patientId, filters(uid(study), uid(series), uid(instance)), "instance", request, response);
    }

    @GetMapping({ROOT + STUDY + "/thumbnail", SERVICE_ROOT + STUDY + "/thumbnail"})
    void studyThumbnail(@PathVariable(required = false) String patientId, @PathVariable String study,
                        HttpServletRequest request, HttpServletResponse response) throws IOException {
        thumbnail(patientId, filters(uid(study), null, null), "study", request, response);
    }

    @GetMapping({ROOT + SERIES + "/thumbnail", SERVICE_ROOT + SERIES + "/thumbnail"})
    void seriesThumbnail(@PathVariable(required = false) String patientId, @PathVariable String study,
                         @PathVariable String series, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        thumbnail(patientId, filters(uid(study), uid(series), null), "series", request, response);
    }

    @GetMapping({ROOT + SERIES + "/instances/{instance}/thumbnail",
            SERVICE_ROOT + SERIES + "/instances/{instance}/thumbnail"})
    void instanceThumbnail(@PathVariable(required = false) String patientId, @PathVariable String study,
                           @PathVariable String series, @PathVariable String instance, HttpServletRequest request,
                           HttpServletResponse response) throws IOException {
        thumbnail(patientId, filters(uid(study), uid(series), uid(instance)), "instance", request, response);
    }

    /**
     * A thumbnail of what the filters name (PS3.18's thumbnail resources, which viewers show for a study or a series):
     * the PNG the workers rendered of its first image that has one, at most 256 px on its long side; {@code 404
     * THUMBNAIL_UNAVAILABLE} when none has, {@code 406} when the client takes no PNG.
     */
    private void thumbnail(String patientId, MultiValueMap<String, String> filters, String what,
                           HttpServletRequest request, HttpServletResponse response) throws IOException {
        requirePng(request.getHeader(HttpHeaders.ACCEPT));
        List<JsonNode> images = located(archive.images(patientId, filters), what);
        JsonNode image = images.stream().filter(i -> i.hasNonNull("thumbnailKey")).findFirst().orElse(null);
        AtomicBoolean started = new AtomicBoolean();
        try {
            if (image != null && archive.copy(image.path("bucket").asString(), image.path("thumbnailKey").asString(),
                    response.getOutputStream(), () -> {
                        started.set(true);
                        response.setContentType(MediaType.IMAGE_PNG_VALUE);
                    })) {
                return;
            }
        } catch (IOException e) {
            throw ImageController.failed(response, started.get(), e);
        }
        throw new ApiProblem(HttpStatus.NOT_FOUND, "THUMBNAIL_UNAVAILABLE",
                "No image of this " + what + " has a thumbnail: its format cannot be rendered.", false);
    }

    /** The client takes a PNG (or any image, or anything). */
    private static void requirePng(String accept) {
        if (accept == null || accept.isBlank()) {
            return;
        }
        try {
            if (MediaType.parseMediaTypes(MediaTypes.lenient(accept)).stream()
                    .anyMatch(type -> type.includes(MediaType.IMAGE_PNG))) {
                return;
            }
        } catch (InvalidMediaTypeException e) {
            // refused below
        }
        throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "Thumbnails are image/png.", false);
    }

    /**
     * The images the filters found, or {@code 404 <WHAT>_NOT_FOUND} for none; the audit record names the patient
     * whose images they are (at the service's root a second one as related).
     */
    private static List<JsonNode> located(List<JsonNode> images, String what) {
        if (images.isEmpty()) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, what.toUpperCase() + "_NOT_FOUND",
                    "No available DICOM " + what + " of these UIDs is here to be seen.", false);
        }
        List<String> patients = images.stream().map(image -> image.path("patientId").asString()).distinct().toList();
        AuditContext.notePatient(patients.get(0));
        AuditContext.noteRelatedPatient(patients.size() > 1 ? patients.get(1) : null);
        return images;
    }

    /**
     * The stored files of what the filters name, as they were uploaded (no transcoding: each part names its
     * transfer syntax), or {@code 404} when there is none; {@code 406} when the client takes no
     * {@code multipart/related} of {@code application/dicom}.
     */
    private void retrieve(String patientId, MultiValueMap<String, String> filters, String what,
                          HttpServletRequest request, HttpServletResponse response) throws IOException {
        requireDicomParts(request.getHeader(HttpHeaders.ACCEPT));
        List<ImageArchive.Item> items = located(archive.images(patientId, filters), what).stream()
                .map(ImageArchive.Item::of).toList();
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
            for (MediaType type : MediaType.parseMediaTypes(MediaTypes.lenient(accept))) {
                if (type.isWildcardType() || type.getType().equals("multipart") && type.isWildcardSubtype()
                        || MediaTypes.isDicomParts(type)) {
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

    /**
     * Every study of the patient's studies grouping, all its pages; at the service's root (no patient), the studies
     * across the patients the caller may see that {@code narrowing} names (the metadata-service's parameters, as
     * {@link DicomJson.Query#narrowing} gives them; the search's other keys are matched afterwards), at most
     * {@value #MAX_STUDIES}.
     */
    private List<JsonNode> studies(String patientId, Map<String, List<String>> narrowing) {
        List<JsonNode> studies = new ArrayList<>();
        MultiValueMap<String, String> query = new LinkedMultiValueMap<>();
        query.set("limit", Integer.toString(STUDIES_PAGE));
        if (patientId == null) {
            narrowing.forEach(query::addAll);
        }
        String cursor;
        do {
            JsonNode page = patientId == null ? metadata.page("/internal/v1/studies", query)
                    : metadata.page("/internal/v1/patients/{id}/studies", query, patientId);
            page.path("items").forEach(studies::add);
            if (studies.size() > MAX_STUDIES) {
                throw ApiProblem.badRequest("TOO_MANY_STUDIES", "More than " + MAX_STUDIES
                        + " studies match; narrow the search (a PatientID, a shorter StudyDate range).");
            }
            cursor = page.path("nextCursor").isString() ? page.path("nextCursor").asString() : null;
            query.set("cursor", cursor);
        } while (cursor != null);
        return studies;
    }

    private static MultiValueMap<String, String> filters(String study, String series, String instance) {
        MultiValueMap<String, String> filters = new LinkedMultiValueMap<>();
        if (study != null) {
            filters.set("studyInstanceUid", study);
        }
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

    /** The DICOMweb root asked, the patient's or the service's, absolute (retrieve URLs are under it). */
    private static String base(HttpServletRequest request, String patientId) {
        String url = request.getRequestURL().toString();
        return url.substring(0, url.indexOf("/v1/"))
                + (patientId == null ? SERVICE_ROOT : ROOT.replace("{patientId}", patientId));
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
                accepted = MediaType.parseMediaTypes(MediaTypes.lenient(accept));
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
