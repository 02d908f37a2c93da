package org.patientimages.gateway.storage;

import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.web.ApiProblem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Objects in the images bucket that no image of the service owns: each image's objects lie under
 * {@code images/<imageId>/}, and a prefix whose id has no image row at all (the service keeps the rows of purged
 * images) is an orphan. After PostgreSQL is restored to an earlier point, the images stored since then are such
 * orphans, and their bytes are in them. Reported a page of prefixes at a time, in the store's key order: one listing
 * of the bucket, one question to the metadata-service, and one listing per orphan. Nothing is removed here.
 * <p>
 * The workers store each original with the SHA-256 of its bytes and the patient it was uploaded for (user metadata
 * {@code sha256} and {@code patient-id}): the report names that patient, and an admin can {@link #adopt} the image,
 * giving it back to that patient or another, from what the object tells, or {@link #remove} its objects.
 */
@Component
public class Orphans implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Orphans.class);

    /** The most prefixes one page covers. */
    public static final int MAX_LIMIT = 1000;
    private static final String PREFIX = "images/";
    /** An image has an original and a thumbnail; more under one prefix are listed up to this many. */
    private static final int MAX_OBJECTS = 100;
    /** The user metadata the workers store an original with. */
    private static final String SHA256_METADATA = "sha256";
    private static final String PATIENT_METADATA = "patient-id";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** An object, as the store lists it. */
    public record StoredObject(String key, long sizeBytes, String lastModified) {
    }

    /**
     * The objects under one prefix that no image owns; {@code imageId} null when the prefix names no image id,
     * {@code uploadedFor} the patient its original was uploaded for, null when no original says so.
     */
    public record Orphan(String prefix, String imageId, String uploadedFor, List<StoredObject> objects) {
    }

    /** A page of orphans among the prefixes it covered, and where the next page starts (null at the end). */
    public record Page(List<Orphan> items, int prefixesChecked, String nextCursor) {
    }

    private final S3Client s3;
    private final String bucket;
    private final MetadataClient metadata;

    Orphans(DownloadLinks.StorageProperties storage, MetadataClient metadata) {
        this.s3 = StoreClients.s3Client(storage);
        this.bucket = storage.bucket();
        this.metadata = metadata;
    }

    @Override
    public void close() {
        s3.close();
    }

    /** The orphans among the next {@code limit} prefixes after {@code cursor} (from the start without one). */
    public Page page(String cursor, int limit) {
        String token = cursor == null ? null : token(cursor);
        ListObjectsV2Response listing;
        try {
            listing = s3.listObjectsV2(b -> b.bucket(bucket).prefix(PREFIX).delimiter("/").maxKeys(limit)
                    .continuationToken(token));
        } catch (S3Exception e) {
            if (token != null && e.statusCode() == 400) {
                throw invalidCursor();
            }
            throw unavailable();
        } catch (SdkException e) {
            throw unavailable();
        }
        List<String> prefixes = listing.commonPrefixes().stream().map(CommonPrefix::prefix).toList();
        Map<String, String> ids = new LinkedHashMap<>();
        for (String prefix : prefixes) {
            ids.put(prefix, imageId(prefix));
        }
        Set<String> known = known(ids.values().stream().filter(Objects::nonNull).toList());
        List<Orphan> orphans = new ArrayList<>();
        ids.forEach((prefix, id) -> {
            if (id == null || !known.contains(id)) {
                String uploadedFor = id == null ? null : original(id).map(o -> o.metadata().get(PATIENT_METADATA))
                        .orElse(null);
                orphans.add(new Orphan(prefix, id, uploadedFor, objects(prefix)));
            }
        });
        String next = Boolean.TRUE.equals(listing.isTruncated()) ? cursor(listing.nextContinuationToken()) : null;
        return new Page(orphans, prefixes.size(), next);
    }

    /**
     * Gives the image of an orphaned original back to a patient ({@code patientId}, or when null the one the original
     * was uploaded for): the metadata-service records it from what the object tells (its size, content type, time and
     * SHA-256) and has a worker check its bytes and derive its attributes and thumbnail again.
     * @return the metadata-service's answer: the image, 201
     */
    public ResponseEntity<JsonNode> adopt(String imageId, String patientId) {
        String id = canonical(imageId);
        HeadObjectResponse original = (id == null ? Optional.<HeadObjectResponse>empty() : original(id))
                .orElseThrow(() -> orphanNotFound(imageId));
        String sha256 = original.metadata().get(SHA256_METADATA);
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new ApiProblem(HttpStatus.CONFLICT, "ORPHAN_NOT_ADOPTABLE", "The original of " + id
                    + " carries no SHA-256 (user metadata sha256): it was not stored by this service's workers.",
                    false);
        }
        String patient = patientId != null ? patientId : original.metadata().get(PATIENT_METADATA);
        if (patient == null) {
            throw new ApiProblem(HttpStatus.BAD_REQUEST, "MISSING_PATIENT_ID", "The original of " + id
                    + " does not name the patient it was uploaded for: name one, {\"patientId\": …}.", false);
        }
        Map<String, Object> adoption = new LinkedHashMap<>();
        adoption.put("patientId", patient);
        adoption.put("bucket", bucket);
        adoption.put("objectKey", originalKey(id));
        adoption.put("contentType", original.contentType());
        adoption.put("sizeBytes", original.contentLength());
        adoption.put("sha256", sha256);
        adoption.put("storedAt", original.lastModified().toString());
        return metadata.post("/internal/v1/images/" + id + "/adoption", adoption);
    }

    /**
     * Removes the objects of an orphan, and the parts of any multipart upload left under its prefix: for bytes that
     * are no one's (an upload the patient has made again, a test object). Refused for an id that has a record: its
     * objects are the image's, removed by deleting or purging it. The metadata-service records the removal first, so
     * that another admin's adoption of the same id at the same moment is refused rather than left without bytes.
     */
    public void remove(String imageId) {
        String id = canonical(imageId);
        if (id == null) {
            throw orphanNotFound(imageId);
        }
        // recorded before a byte goes: 409 IMAGE_EXISTS for an id with a row, and no adoption of it from now on
        metadata.post("/internal/v1/images/" + id + "/removal", Map.of());
        String prefix = PREFIX + id + "/";
        try {
            boolean found = false;
            for (var upload : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(prefix)).uploads()) {
                s3.abortMultipartUpload(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
                found = true;
            }
            for (var page : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix))) {
                if (!page.contents().isEmpty()) {
                    var answer = s3.deleteObjects(b -> b.bucket(bucket).delete(d -> d.quiet(true)
                            .objects(page.contents().stream().map(o -> ObjectIdentifier.builder().key(o.key()).build())
                                    .toList())));
                    if (!answer.errors().isEmpty()) {
                        throw unavailable(); // what was removed stays removed; the call can be made again
                    }
                    found = true;
                }
            }
            if (!found) {
                throw orphanNotFound(id);
            }
        } catch (SdkException e) {
            throw unavailable();
        }
        log.info("the objects of orphan {} were removed", id);
    }

    private static ApiProblem orphanNotFound(String imageId) {
        return new ApiProblem(HttpStatus.NOT_FOUND, "ORPHAN_NOT_FOUND", "No objects under " + PREFIX + imageId
                + "/ in the bucket.", false);
    }

    /** The original of an image id, as the store heads it; empty when there is none. */
    private Optional<HeadObjectResponse> original(String imageId) {
        try {
            return Optional.of(s3.headObject(b -> b.bucket(bucket).key(originalKey(imageId))));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw unavailable();
        } catch (SdkException e) {
            throw unavailable();
        }
    }

    private static String originalKey(String imageId) {
        return PREFIX + imageId + "/original";
    }

    /** The ids of these that have an image row. */
    private Set<String> known(List<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        Set<String> known = new HashSet<>();
        metadata.post("/internal/v1/images/known", Map.of("imageIds", ids)).getBody().path("known")
                .forEach(id -> known.add(id.asString()));
        return known;
    }

    private List<StoredObject> objects(String prefix) {
        try {
            return s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).maxKeys(MAX_OBJECTS)).contents().stream()
                    .map(o -> new StoredObject(o.key(), o.size(), o.lastModified().toString()))
                    .toList();
        } catch (SdkException e) {
            throw unavailable();
        }
    }

    private static ApiProblem unavailable() {
        return ApiProblem.unavailable("STORAGE_UNAVAILABLE", "The object store did not answer; try again later.");
    }

    private static ApiProblem invalidCursor() {
        return new ApiProblem(HttpStatus.BAD_REQUEST, "INVALID_CURSOR", "cursor is not one this service gave.", false);
    }

    /** The image id a prefix {@code images/<id>/} names, in the form the service writes it; null for any other. */
    private static String imageId(String prefix) {
        return canonical(prefix.substring(PREFIX.length(), prefix.length() - 1));
    }

    /** The id as the service writes image ids (a lower-case UUID); null for anything else. */
    private static String canonical(String id) {
        try {
            return UUID.fromString(id).toString().equals(id) ? id : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String cursor(String token) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(token.getBytes(StandardCharsets.UTF_8));
    }

    private static String token(String cursor) {
        try {
            return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw invalidCursor();
        }
    }
}
