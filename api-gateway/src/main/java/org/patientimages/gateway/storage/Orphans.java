package org.patientimages.gateway.storage;

import org.patientimages.gateway.metadata.MetadataClient;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
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
import java.util.Set;
import java.util.UUID;

/**
 * Objects in the images bucket that no image of the service owns: each image's objects lie under
 * {@code images/<imageId>/}, and a prefix whose id has no image row at all (the service keeps the rows of purged
 * images) is an orphan. After PostgreSQL is restored to an earlier point, the images stored since then are such
 * orphans, and their bytes are in them. Reported a page of prefixes at a time, in the store's key order: one listing
 * of the bucket, one question to the metadata-service, and one listing per orphan. Nothing is removed here.
 */
@Component
public class Orphans implements AutoCloseable {

    /** The most prefixes one page covers. */
    public static final int MAX_LIMIT = 1000;
    private static final String PREFIX = "images/";
    /** An image has an original and a thumbnail; more under one prefix are listed up to this many. */
    private static final int MAX_OBJECTS = 100;

    /** An object, as the store lists it. */
    public record StoredObject(String key, long sizeBytes, String lastModified) {
    }

    /** The objects under one prefix that no image owns; {@code imageId} null when the prefix names no image id. */
    public record Orphan(String prefix, String imageId, List<StoredObject> objects) {
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
                orphans.add(new Orphan(prefix, id, objects(prefix)));
            }
        });
        String next = Boolean.TRUE.equals(listing.isTruncated()) ? cursor(listing.nextContinuationToken()) : null;
        return new Page(orphans, prefixes.size(), next);
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
        String id = prefix.substring(PREFIX.length(), prefix.length() - 1);
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
