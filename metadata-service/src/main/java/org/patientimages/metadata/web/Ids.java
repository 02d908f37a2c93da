package org.patientimages.metadata.web;

import java.util.Optional;
import java.util.UUID;

/** Ids are UUIDs; anything else names nothing (and is answered like an unknown id, never a 500). */
public final class Ids {

    private Ids() {
    }

    public static Optional<UUID> parse(String id) {
        if (id == null || id.length() != 36) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(id));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
