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

/** The staging area as a directory shared with the gateway: the worker reads the file and sends its bytes. */
@Component
@ConditionalOnProperty(name = "patient-images.staging.mode", havingValue = "directory", matchIfMissing = true)
class DirectoryStagingArea implements StagingArea {

    private final Path root;

    DirectoryStagingArea(StagingProperties properties) {
        this.root = properties.directory().toAbsolutePath().normalize();
    }

    @Override
    public Optional<Staged> find(String key) {
        if (!KEY.matcher(key).matches()) {
            return Optional.empty();
        }
        Path file = root.resolve(key);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(new StagedFile(file, Files.size(file)));
        } catch (IOException e) {
            return Optional.empty(); // removed meanwhile
        }
    }

    @Override
    public void delete(String key) {
        if (!KEY.matcher(key).matches()) {
            return;
        }
        try {
            Files.deleteIfExists(root.resolve(key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record StagedFile(Path file, long sizeBytes) implements Staged, Local {

        /** Sent from the file, its SHA-256 checked in the same read. */
        @Override
        public void storeInto(ObjectStore store, String key, ObjectStore.Recorded recorded, String contentType,
                              LongConsumer progress) {
            store.put(key, file, sizeBytes, recorded, contentType, progress);
        }

        @Override
        public Local local() {
            return this;
        }

        @Override
        public void close() {
            // the staged file itself: removed when the job ends
        }
    }
}
