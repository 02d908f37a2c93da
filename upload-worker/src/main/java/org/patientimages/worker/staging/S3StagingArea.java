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
 * The staging area as a bucket of the same object store: the worker moves the staged object into place with a
 * server-side copy, its bytes never passing through this host, and downloads the stored object only when there
 * are attributes to read or a thumbnail to render. The SHA-256 was computed by the gateway over the bytes it
 * sent in; the copy checks the staged object is still the one of that upload (its size and ETag).
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

        StagedObject(String stagingKey, ObjectStore.StoredObject object) {
            this.stagingKey = stagingKey;
            this.object = object;
        }

        @Override
        public long sizeBytes() {
            return object.sizeBytes();
        }

        @Override
        public void storeInto(ObjectStore target, String key, String sha256, String contentType, LongConsumer progress) {
            target.copy(bucket, stagingKey, object, key, sha256, contentType, progress);
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
                store.download(bucket, stagingKey, file);
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
