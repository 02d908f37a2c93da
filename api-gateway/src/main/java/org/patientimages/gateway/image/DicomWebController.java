package org.patientimages.gateway.image;

import jakarta.annotation.PreDestroy;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.patientimages.gateway.audit.AuditContext;
import org.patientimages.gateway.dicom.DicomFrames;
import org.patientimages.gateway.dicom.DicomMetadata;
import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.web.ApiProblem;
import org.patientimages.gateway.web.MediaTypes;
import org.springframework.http.HttpHeaders;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
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
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.time.Duration;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

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
    private static final String INSTANCE = SERIES + "/instances/{instance}";
    private static final MediaType DICOM_JSON = MediaType.parseMediaType("application/dicom+json");
    private static final int STUDIES_PAGE = 500;
    private static final int MAX_STUDIES = 10_000;

    /** How much of a stored file is read first for its metadata, and at most (its header's size, in effect). */
    private static final int HEAD = 64 * 1024;
    private static final int MAX_HEAD = 16 * 1024 * 1024;
    private static final int MAX_FRAMES = 1000;
    private static final MediaType OCTET_STREAM = MediaType.APPLICATION_OCTET_STREAM;

    /** How many files' first bytes one metadata request reads ahead, and all of them at once. */
    private static final int READS_AHEAD = 8;
    private static final int READERS = 16;
    private static final int HEADERS_KEPT = 16 * 1024 * 1024;

    private final MetadataClient metadata;
    private final ImageArchive archive;
    private final JsonMapper json;
    private final ExecutorService reads = Executors.newFixedThreadPool(READERS,
            new CustomizableThreadFactory("dicom-metadata-"));
    /** Data sets read lately, weighed by the bytes read for each, at most {@value #HEADERS_KEPT} bytes' worth. */
    private final Cache<String, ReadHeader> headers = Caffeine.newBuilder().maximumWeight(HEADERS_KEPT)
            .weigher((String key, ReadHeader read) -> read.bytes()).expireAfterAccess(Duration.ofMinutes(10))
            .build();

    /** A file's data set and how many of its bytes were read for it. */
    private record ReadHeader(DicomMetadata.DataSet dataSet, int bytes) {
    }

    DicomWebController(MetadataClient metadata, ImageArchive archive, JsonMapper json) {
        this.metadata = metadata;
        this.archive = archive;
        this.json = json;
    }

    @GetMapping({ROOT + "/studies", SERVICE_ROOT + "/studies"})
    ResponseEntity<List<Map<String, Object>>> studies(@PathVariable(required = false) String patientId,
                                                      @RequestParam MultiValueMap<String, String> query,
                                                      HttpServletRequest request) {
        DicomJson.Query search = DicomJson.query(query, DicomJson.Level.STUDY);
        String base = base(request, patientId);
        if (patientId == null && search.narrowing().isEmpty()) {
            return latestStudies(search, base, request);
        }
        List<Map<String, Object>> studies = new ArrayList<>();
        studies(patientId, search.narrowing()).forEach(study -> studies.add(DicomJson.study(study, base)));
        return found(request, search.apply(studies));
    }

    /**
     * A study search at the service's root that no PatientID, StudyInstanceUID or StudyDate narrows (a viewer's
     * study list): the studies the caller may see, the latest received first. When more are left unread than
     * {@link #latest} looked at, the answer says so in PS3.18's {@code Warning} header.
     */
    private ResponseEntity<List<Map<String, Object>>> latestStudies(DicomJson.Query search, String base,
                                                                    HttpServletRequest request) {
        // pages no larger than what is asked for: each is a grouping of its studies' images
        String pageSize = Long.toString(Math.max(1, Math.min(STUDIES_PAGE, search.end())));
        Latest latest = latest(cursor -> {
            MultiValueMap<String, String> query = new LinkedMultiValueMap<>();
            query.set("limit", pageSize);
            if (cursor != null) {
                query.set("cursor", cursor);
            }
            return metadata.page("/internal/v1/studies", query);
        }, search, base, MAX_STUDIES);
        ResponseEntity.BodyBuilder answer = ResponseEntity.ok().contentType(jsonType(request));
        if (latest.more()) {
            answer.header("Warning", "299 " + base + ": \"There are additional results that can be requested\"");
        }
        return answer.body(search.apply(latest.matched()));
    }

    /** The studies that match a search, and whether more were left unread. */
    record Latest(List<Map<String, Object>> matched, boolean more) {
    }

    /**
     * The latest studies that match a search, read a page at a time ({@code pages}: a cursor, null for the first
     * page, to a page of the metadata-service's studies) until the search's offset and limit are filled by those
     * that match its keys, the pages end, or {@code most} studies were looked at.
     */
    static Latest latest(Function<String, JsonNode> pages, DicomJson.Query search, String base, int most) {
        long wanted = search.end();
        List<Map<String, Object>> matched = new ArrayList<>();
        int looked = 0;
        String cursor = null;
        do {
            JsonNode page = pages.apply(cursor);
            for (JsonNode study : page.path("items")) {
                looked++;
                Map<String, Object> object = DicomJson.study(study, base);
                if (search.matches(object)) {
                    matched.add(object);
                }
            }
            cursor = page.path("nextCursor").isString() ? page.path("nextCursor").asString() : null;
        } while (cursor != null && matched.size() < wanted && looked < most);
        return new Latest(matched, cursor != null && matched.size() < wanted);
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
        for (JsonNode image : instancesOf(archive.images(patientId, filters))) {
            instances.add(DicomJson.instance(image, base));
        }
        return found(request, search.apply(instances));
    }

    /** A study, a series or an instance, as the path names it, and what its {@code 404} calls it. */
    private record Resource(MultiValueMap<String, String> filters, String what) {
        static Resource of(String study, String series, String instance) {
            return new Resource(DicomWebController.filters(uid(study), series == null ? null : uid(series),
                    instance == null ? null : uid(instance)),
                    instance != null ? "instance" : series != null ? "series" : "study");
        }
    }

    @GetMapping({ROOT + STUDY, ROOT + SERIES, ROOT + INSTANCE, SERVICE_ROOT + STUDY, SERVICE_ROOT + SERIES,
            SERVICE_ROOT + INSTANCE})
    void retrieveFiles(@PathVariable(required = false) String patientId, @PathVariable String study,
                       @PathVariable(required = false) String series, @PathVariable(required = false) String instance,
                       HttpServletRequest request, HttpServletResponse response) throws IOException {
        retrieve(patientId, Resource.of(study, series, instance), request, response);
    }

    @GetMapping({ROOT + STUDY + "/metadata", ROOT + SERIES + "/metadata", ROOT + INSTANCE + "/metadata",
            SERVICE_ROOT + STUDY + "/metadata", SERVICE_ROOT + SERIES + "/metadata",
            SERVICE_ROOT + INSTANCE + "/metadata"})
    void retrieveMetadata(@PathVariable(required = false) String patientId, @PathVariable String study,
                          @PathVariable(required = false) String series,
                          @PathVariable(required = false) String instance, HttpServletRequest request,
                          HttpServletResponse response) throws IOException {
        metadata(patientId, Resource.of(study, series, instance), request, response);
    }

    /**
     * The metadata resources (PS3.18 §10.4.1.1.2): each instance's data set in the DICOM JSON model, read from the
     * first bytes of its stored file ({@link DicomMetadata}), its pixel data a {@code BulkDataURI} to its frames; a
     * file that cannot be read so (its data set deflated, its header past {@value #MAX_HEAD} bytes) is given with
     * what the search knows of it. Written as a JSON array, an instance at a time.
     */
    private void metadata(String patientId, Resource resource, HttpServletRequest request,
                          HttpServletResponse response) throws IOException {
        MediaType type = jsonType(request);
        List<JsonNode> images = located(patientId, resource);
        String base = base(request, patientId);
        AtomicBoolean started = new AtomicBoolean();
        Deque<Future<byte[]>> ahead = new ArrayDeque<>();
        try {
            OutputStream out = response.getOutputStream();
            Iterator<JsonNode> next = images.iterator();
            while (next.hasNext() || !ahead.isEmpty()) {
                // the next files' first bytes are read while this one's data set is written
                while (next.hasNext() && ahead.size() < READS_AHEAD) {
                    JsonNode image = next.next();
                    ahead.add(reads.submit(() -> json.writeValueAsBytes(dataSetOf(image, base))));
                }
                byte[] object = done(ahead.poll());
                if (started.compareAndSet(false, true)) {
                    response.setContentType(type.toString());
                    out.write('[');
                } else {
                    out.write(',');
                }
                out.write(object);
            }
            out.write(']');
            out.flush();
        } catch (IOException e) {
            throw ImageController.failed(response, started.get(), e);
        } finally {
            ahead.forEach(read -> read.cancel(true));
        }
    }

    /** What a read came to; its failure as it was thrown. */
    private static byte[] done(Future<byte[]> read) throws IOException {
        try {
            return read.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    @PreDestroy
    void stopReads() {
        reads.shutdownNow();
    }

    /** An instance's data set in the DICOM JSON model, or what the search knows of it when it cannot be read. */
    private Map<String, Object> dataSetOf(JsonNode image, String base) throws IOException {
        DicomMetadata.DataSet dataSet;
        try {
            dataSet = dataSet(ImageArchive.Item.of(image));
        } catch (DicomMetadata.Unreadable e) {
            return DicomJson.instance(image, base);
        }
        Map<String, Object> elements = new LinkedHashMap<>(dataSet.elements());
        String url = DicomJson.retrieveUrl(image, base);
        if (url == null) {
            return elements;
        }
        for (String tag : dataSet.bulk().keySet()) {
            elements.put(tag, Map.of("vr", ((Map<?, ?>) elements.get(tag)).get("vr"),
                    "BulkDataURI", url + "/bulkdata/" + tag));
        }
        if (dataSet.pixels() != null) {
            StringBuilder frames = new StringBuilder(url).append("/frames/1");
            for (int i = 2; i <= Math.min(DicomFrames.count(dataSet), MAX_FRAMES); i++) {
                frames.append(',').append(i);
            }
            elements.put(DicomMetadata.tagKey(DicomMetadata.PIXEL_DATA),
                    Map.of("vr", dataSet.pixels().vr(), "BulkDataURI", frames.toString()));
        }
        return elements;
    }

    /**
     * The stored file's data set, read from as many of its first bytes as it takes, or as read lately: a viewer
     * reads a series' metadata, then each instance's frames, each of which needs where its pixels lie.
     */
    private DicomMetadata.DataSet dataSet(ImageArchive.Item item) throws IOException {
        String key = item.imageId() + "/" + item.sha256(); // an image's bytes never change; its key says so anyway
        ReadHeader known = headers.getIfPresent(key);
        if (known != null) {
            return known.dataSet();
        }
        long window = Math.min(item.sizeBytes(), HEAD);
        while (true) {
            byte[] head;
            try (InputStream in = archive.range(item, 0, window - 1)) {
                head = in.readNBytes((int) window);
            }
            if (head.length < window) {
                throw new ImageArchive.Damaged(item.imageId(), "it is shorter than its recorded size");
            }
            try {
                DicomMetadata.DataSet dataSet = DicomMetadata.read(head, item.sizeBytes());
                headers.put(key, new ReadHeader(dataSet, head.length));
                return dataSet;
            } catch (DicomMetadata.NeedMore more) {
                if (window >= MAX_HEAD || window == item.sizeBytes()) {
                    throw new DicomMetadata.Unreadable("its header is longer than " + MAX_HEAD + " bytes");
                }
                window = Math.min(Math.min(item.sizeBytes(), MAX_HEAD), Math.max(more.bytes(), window * 4));
            }
        }
    }

    /**
     * A top-level binary value too long for the metadata (more than 64 KiB: an encapsulated PDF, an overlay, a large
     * lookup table), by its tag, as the metadata's {@code BulkDataURI} names it: the bytes as stored, read by a ranged
     * read, as a part of a {@code multipart/related} answer, or as {@code application/octet-stream} alone to a client
     * that takes only that.
     */
    @GetMapping({ROOT + INSTANCE + "/bulkdata/{tag}",
            SERVICE_ROOT + INSTANCE + "/bulkdata/{tag}"})
    void bulkData(@PathVariable(required = false) String patientId, @PathVariable String study,
                  @PathVariable String series, @PathVariable String instance, @PathVariable String tag,
                  HttpServletRequest request, HttpServletResponse response) throws IOException {
        boolean parts = bulkParts(request.getHeader(HttpHeaders.ACCEPT));
        ImageArchive.Item item = ImageArchive.Item.of(located(patientId,
                Resource.of(study, series, instance)).get(0));
        DicomMetadata.Bulk bulk;
        try {
            bulk = dataSet(item).bulk().get(tag.toUpperCase());
        } catch (DicomMetadata.Unreadable e) {
            bulk = null;
        }
        if (bulk == null) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, "BULKDATA_NOT_FOUND", "The instance has no bulk data at "
                    + (tag.matches("[0-9A-Fa-f]{8}") ? tag : "that tag") + " (the metadata names its bulk data).",
                    false);
        }
        String boundary = UUID.randomUUID().toString();
        AtomicBoolean started = new AtomicBoolean();
        try (InputStream in = archive.range(item, bulk.offset(), bulk.offset() + bulk.length() - 1)) {
            OutputStream out = response.getOutputStream();
            started.set(true);
            if (parts) {
                response.setContentType("multipart/related; type=\"application/octet-stream\"; boundary=" + boundary);
                ImageArchive.RelatedParts.part(out, boundary, MediaType.APPLICATION_OCTET_STREAM_VALUE);
            } else {
                response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
            }
            if (in.transferTo(out) != bulk.length()) {
                throw new ImageArchive.Damaged(item.imageId(), "it is shorter than its recorded size");
            }
            if (parts) {
                ImageArchive.RelatedParts.endPart(out);
                ImageArchive.RelatedParts.close(out, boundary);
            }
        } catch (IOException e) {
            throw ImageController.failed(response, started.get(), e);
        }
    }

    /**
     * Whether bulk data goes as a part of {@code multipart/related} (what the client takes first: that, anything, or
     * no Accept) or alone as {@code application/octet-stream}; 406 for neither.
     */
    private static boolean bulkParts(String accept) {
        if (accepts(accept, type -> MediaTypes.isRelated(type, OCTET_STREAM))) {
            return true;
        }
        if (accepts(accept, type -> type.includes(OCTET_STREAM))) {
            return false;
        }
        throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "Bulk data is multipart/related;"
                + " type=\"application/octet-stream\", or application/octet-stream alone.", false);
    }

    @GetMapping({ROOT + INSTANCE + "/frames/{frames}",
            SERVICE_ROOT + INSTANCE + "/frames/{frames}"})
    void frames(@PathVariable(required = false) String patientId, @PathVariable String study,
                @PathVariable String series, @PathVariable String instance, @PathVariable String frames,
                HttpServletRequest request, HttpServletResponse response) throws IOException {
        List<Integer> wanted = frameNumbers(frames);
        ImageArchive.Item item = ImageArchive.Item.of(located(patientId,
                Resource.of(study, series, instance)).get(0));
        DicomMetadata.DataSet dataSet;
        try {
            dataSet = dataSet(item);
            DicomFrames.requireReadable(dataSet);
        } catch (DicomMetadata.Unreadable | DicomFrames.Unavailable e) {
            throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "The instance's frames cannot be given: "
                    + e.getMessage() + ".", false);
        }
        int count = DicomFrames.count(dataSet);
        for (int frame : wanted) {
            if (frame > count) {
                throw new ApiProblem(HttpStatus.NOT_FOUND, "FRAME_NOT_FOUND", "The instance has " + count
                        + " frame(s), not " + frame + ".", false);
            }
        }
        String syntax = DicomFrames.transferSyntax(dataSet);
        String media = DicomFrames.mediaType(dataSet);
        requireFrameParts(request.getHeader(HttpHeaders.ACCEPT), media, syntax);
        String boundary = UUID.randomUUID().toString();
        AtomicBoolean started = new AtomicBoolean();
        try {
            OutputStream out = response.getOutputStream();
            for (int frame : wanted) {
                if (started.compareAndSet(false, true)) {
                    response.setContentType("multipart/related; type=\"" + media + "\"; boundary=" + boundary);
                }
                ImageArchive.RelatedParts.part(out, boundary, media + "; transfer-syntax=" + syntax);
                DicomFrames.write(dataSet, item.sizeBytes(), frame, (from, to) -> archive.range(item, from, to), out);
                ImageArchive.RelatedParts.endPart(out);
            }
            ImageArchive.RelatedParts.close(out, boundary);
        } catch (DicomFrames.Unavailable e) {
            // found only once a frame's bytes were asked for: the answer has begun
            throw ImageController.failed(response, true, new IOException(e.getMessage(), e));
        } catch (IOException e) {
            throw ImageController.failed(response, started.get(), e);
        }
    }

    /** A frame list, {@code 1,3,5}: at most {@value #MAX_FRAMES} numbers from 1. */
    private static List<Integer> frameNumbers(String frames) {
        List<Integer> numbers = new ArrayList<>();
        for (String number : frames.split(",", -1)) {
            if (!number.matches("[1-9][0-9]{0,8}") || numbers.size() == MAX_FRAMES) {
                throw ApiProblem.badRequest("INVALID_PARAMETER", "A frame list is 1 to " + MAX_FRAMES
                        + " frame numbers from 1, separated by commas.");
            }
            numbers.add(Integer.parseInt(number));
        }
        return numbers;
    }

    /**
     * The client takes {@code multipart/related} of the frames' media type, or of {@code application/octet-stream},
     * in their transfer syntax ({@code transfer-syntax=*}, that one, or none named), or anything.
     */
    private static void requireFrameParts(String accept, String media, String syntax) {
        MediaType frames = MediaType.parseMediaType(media);
        if (accepts(accept, type -> {
            String asked = type.getParameter("transfer-syntax");
            asked = asked == null ? null : asked.replace("\"", "");
            return (MediaTypes.isRelated(type, OCTET_STREAM) || MediaTypes.isRelated(type, frames))
                    && (asked == null || asked.equals("*") || asked.equals(syntax));
        })) {
            return;
        }
        throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "The frames are multipart/related;"
                + " type=\"" + media + "\" in transfer syntax " + syntax + ", as stored (no transcoding).", false);
    }

    @GetMapping({ROOT + STUDY + "/thumbnail", ROOT + SERIES + "/thumbnail", ROOT + INSTANCE + "/thumbnail",
            SERVICE_ROOT + STUDY + "/thumbnail", SERVICE_ROOT + SERIES + "/thumbnail",
            SERVICE_ROOT + INSTANCE + "/thumbnail"})
    void retrieveThumbnail(@PathVariable(required = false) String patientId, @PathVariable String study,
                           @PathVariable(required = false) String series,
                           @PathVariable(required = false) String instance, HttpServletRequest request,
                           HttpServletResponse response) throws IOException {
        thumbnail(patientId, Resource.of(study, series, instance), request, response);
    }

    /**
     * A thumbnail of what the filters name (PS3.18's thumbnail resources, which viewers show for a study or a series):
     * the PNG the workers rendered of its first image that has one, at most 256 px on its long side; {@code 404
     * THUMBNAIL_UNAVAILABLE} when none has, {@code 406} when the client takes no PNG.
     */
    private void thumbnail(String patientId, Resource resource, HttpServletRequest request,
                           HttpServletResponse response) throws IOException {
        requirePng(request.getHeader(HttpHeaders.ACCEPT));
        List<JsonNode> images = located(patientId, resource);
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
                "No image of this " + resource.what() + " has a thumbnail: its format cannot be rendered.", false);
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
     * The images the filters found, one per instance ({@link #instancesOf}), or {@code 404 <WHAT>_NOT_FOUND} for none;
     * the audit record names the patient whose images they are (at the service's root a second one as related).
     */
    private List<JsonNode> located(String patientId, Resource resource) {
        List<JsonNode> images = instancesOf(archive.images(patientId, resource.filters()));
        if (images.isEmpty()) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, resource.what().toUpperCase() + "_NOT_FOUND",
                    "No available DICOM " + resource.what() + " of these UIDs is here to be seen.", false);
        }
        List<String> patients = images.stream().map(image -> image.path("patientId").asString()).distinct().toList();
        AuditContext.notePatient(patients.get(0));
        AuditContext.noteRelatedPatient(patients.size() > 1 ? patients.get(1) : null);
        return images;
    }

    /**
     * One image per instance: of the images with the same SOP Instance UID for a patient (an instance sent again,
     * stored twice), the latest stored, which a DICOMweb client sees as the instance; in their order (the search's:
     * as they arrived). Images without the UID are each their own.
     */
    static List<JsonNode> instancesOf(List<JsonNode> images) {
        Map<String, Integer> latest = new HashMap<>();
        for (int i = 0; i < images.size(); i++) {
            latest.put(instanceKey(images.get(i), i), i);
        }
        List<JsonNode> instances = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            if (latest.get(instanceKey(images.get(i), i)) == i) {
                instances.add(images.get(i));
            }
        }
        return instances;
    }

    private static String instanceKey(JsonNode image, int index) {
        JsonNode uid = image.path("attributes").path("dicom").path("SOPInstanceUID");
        return uid.isString() ? image.path("patientId").asString() + "/" + uid.asString() : "#" + index;
    }

    /**
     * The stored files of what the filters name, as they were uploaded (no transcoding: each part names its
     * transfer syntax), or {@code 404} when there is none; {@code 406} when the client takes no
     * {@code multipart/related} of {@code application/dicom}.
     */
    private void retrieve(String patientId, Resource resource, HttpServletRequest request,
                          HttpServletResponse response) throws IOException {
        requireDicomParts(request.getHeader(HttpHeaders.ACCEPT));
        List<ImageArchive.Item> items = located(patientId, resource).stream()
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
        if (!accepts(accept, MediaTypes::isDicomParts)) {
            throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "Instances are retrieved as "
                    + "multipart/related; type=\"application/dicom\" (as stored: no rendered or bulk data media"
                    + " types).", false);
        }
    }

    /**
     * Whether the client takes what {@code wanted} says, or any multipart body, or anything (or sends no Accept); an
     * Accept that cannot be parsed takes nothing.
     */
    private static boolean accepts(String accept, Predicate<MediaType> wanted) {
        if (accept == null || accept.isBlank()) {
            return true;
        }
        try {
            return MediaType.parseMediaTypes(MediaTypes.lenient(accept)).stream().anyMatch(type -> type.isWildcardType()
                    || type.getType().equals("multipart") && type.isWildcardSubtype() || wanted.test(type));
        } catch (InvalidMediaTypeException e) {
            return false;
        }
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
        if (!DicomMetadata.isUid(uid)) {
            throw ApiProblem.badRequest("INVALID_PARAMETER", "A UID is at most 64 digits and dots, not '"
                    + (uid.length() > 64 ? uid.substring(0, 64) + "…" : uid) + "'.");
        }
        return uid;
    }

    /** A search's answer, in the DICOM JSON model, or as {@code application/json} to a client that takes only that. */
    private static ResponseEntity<List<Map<String, Object>>> found(HttpServletRequest request,
                                                                   List<Map<String, Object>> objects) {
        return ResponseEntity.ok().contentType(jsonType(request)).body(objects);
    }

    /** {@code application/dicom+json}, or {@code application/json} for a client that takes only that; else 406. */
    private static MediaType jsonType(HttpServletRequest request) {
        String accept = request.getHeader(HttpHeaders.ACCEPT);
        if (accept == null || accept.isBlank()) {
            return DICOM_JSON;
        }
        List<MediaType> accepted;
        try {
            accepted = MediaType.parseMediaTypes(MediaTypes.lenient(accept));
        } catch (InvalidMediaTypeException e) {
            accepted = List.of();
        }
        if (accepted.stream().anyMatch(a -> a.includes(DICOM_JSON))) {
            return DICOM_JSON;
        }
        if (accepted.stream().anyMatch(a -> a.includes(MediaType.APPLICATION_JSON))) {
            return MediaType.APPLICATION_JSON;
        }
        throw new ApiProblem(HttpStatus.NOT_ACCEPTABLE, "NOT_ACCEPTABLE",
                "DICOM JSON is application/dicom+json (DICOM XML is not offered).", false);
    }
}
