package org.patientimages.metadata.web;

import java.util.List;

/** One page of a list: the items and an opaque cursor to the next page, {@code null} on the last. */
public record Page<T>(List<T> items, String nextCursor) {
}
