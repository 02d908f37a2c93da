package org.patientimages.metadata.web;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * Keyset pagination: a cursor is the opaque (base64url) form of the sort key of the last item of a page.
 * Queries fetch {@code limit + 1} rows to learn whether another page exists.
 */
public final class Paging {

    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 500;

    private Paging() {
    }

    public static int limit(Integer requested) {
        if (requested == null) {
            return DEFAULT_LIMIT;
        }
        if (requested < 1 || requested > MAX_LIMIT) {
            throw ApiException.badRequest("INVALID_LIMIT",
                    "limit must be between 1 and " + MAX_LIMIT + ", was " + requested + ".");
        }
        return requested;
    }

    /** The parts of a cursor, or {@code null} for the first page. */
    public static String[] decode(String cursor, int parts) {
        if (cursor == null || cursor.isEmpty()) {
            return null;
        }
        try {
            String[] decoded = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", -1);
            if (decoded.length != parts) {
                throw new IllegalArgumentException();
            }
            return decoded;
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("INVALID_CURSOR", "cursor is not one this service issued.");
        }
    }

    /** The sort key of a row in a list ordered by a time and then by id. */
    public record Key(Instant at, UUID id) {
    }

    public static String cursor(Instant at, UUID id) {
        return encode(micros(at), id.toString());
    }

    /** A time as microseconds since the epoch (PostgreSQL's precision), in text. */
    public static String micros(Instant at) {
        return Long.toString(at.getEpochSecond() * 1_000_000 + at.getNano() / 1000);
    }

    public static Instant micros(String micros) {
        long m = Long.parseLong(micros);
        return Instant.ofEpochSecond(Math.floorDiv(m, 1_000_000), Math.floorMod(m, 1_000_000) * 1000L);
    }

    /** The key after which a page starts, or {@code null} for the first page. */
    public static Key after(String cursor) {
        String[] parts = decode(cursor, 2);
        if (parts == null) {
            return null;
        }
        try {
            return new Key(micros(parts[0]), UUID.fromString(parts[1]));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("INVALID_CURSOR", "cursor is not one this service issued.");
        }
    }

    public static String encode(String... parts) {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(String.join("|", parts).getBytes(StandardCharsets.UTF_8));
    }

    /** Cuts the extra row off and builds the cursor from the last item kept. */
    public static <T> Page<T> page(List<T> rows, int limit, Function<T, String> cursorOf) {
        if (rows.size() <= limit) {
            return new Page<>(rows, null);
        }
        List<T> items = rows.subList(0, limit);
        return new Page<>(List.copyOf(items), cursorOf.apply(items.get(limit - 1)));
    }
}
