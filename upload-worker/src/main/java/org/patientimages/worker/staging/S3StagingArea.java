package org.patientimages.worker.staging;

import org.patientimages.worker.storage.ObjectStore;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * The staging area as a bucket of the same object store: the worker reads the staged object through once to check
 * its SHA-256 against the one the gateway computed as the bytes came in, then moves it into place with a
 * server-side copy of exactly the object read (its ETag): its bytes are never sent from this host. When there are
 * attributes to read or a thumbnail to render, that one read fetches it into a file and is the check.
 */
@Component
@ConditionalOnProperty(name = "patient-images.staging.mode", havingValue = "s3")
class S3StagingArea implements StagingArea {

    private final ObjectStore store;
    private final String bucket;

    S3StagingArea(ObjectStore store, StagingProperties properties) {
        this.store = store;
        this.bucket = properties.bucket();
    }

    @Override
    public Optional<Staged> find(String key) {
        if (!KEY.matcher(key).matches()) {
            return Optional.empty();
        }
        return store.head(bucket, key).map(object -> new StagedObject(key, object));
    }

    @Override
    public void delete(String key) {
        if (KEY.matcher(key).matches()) {
            store.delete(bucket, key);
        }
    }

    private final class StagedObject implements Staged {
        private final String stagingKey;
        private final ObjectStore.StoredObject object;
        /** The SHA-256 of the bytes {@link #local()} fetched, exactly the object's (its ETag); null before. */
        private String fetchedSha256;

        StagedObject(String stagingKey, ObjectStore.StoredObject object) {
            this.stagingKey = stagingKey;
            this.object = object;
        }

        @Override
        public long sizeBytes() {
            return object.sizeBytes();
        }

        /**
         * Checked against the SHA-256 of the bytes fetched by {@link #local()}, or else read through once to check
         * it; then copied server-side, only if still the object read.
         */
        @Override
        public void storeInto(ObjectStore target, String key, ObjectStore.Recorded recorded, String contentType,
                              LongConsumer progress) {
            String read = fetchedSha256 != null ? fetchedSha256 : store.sha256(bucket, stagingKey, object.eTag());
            if (!read.equals(recorded.sha256())) {
                throw new ObjectStore.ContentMismatchException(stagingKey);
            }
            target.copy(bucket, stagingKey, object, key, recorded, contentType, progress);
        }

        @Override
        public Local local() {
            Path file;
            try {
                file = Files.createTempFile("staged-", ".bin");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Downloaded local = new Downloaded(file);
            try {
                fetchedSha256 = store.download(bucket, stagingKey, object.eTag(), file).sha256();
                return local;
            } catch (RuntimeException e) {
                local.close();
                throw e;
            }
        }
    }

    private record Downloaded(Path file) implements Local {
        @Override
        public void close() {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
