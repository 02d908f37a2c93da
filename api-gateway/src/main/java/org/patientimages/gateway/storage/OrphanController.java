package org.patientimages.gateway.storage;

import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The orphan report of the images bucket (admins). */
@RestController
class OrphanController {

    private static final int DEFAULT_LIMIT = 100;

    private final Orphans orphans;

    OrphanController(Orphans orphans) {
        this.orphans = orphans;
    }

    /**
     * The objects among the next {@code limit} image prefixes of the bucket (100, at most 1000) that no image owns,
     * and the cursor of the next page: each call reads one page of the store's listing.
     */
    @GetMapping("/v1/storage/orphans")
    Orphans.Page orphans(@RequestParam(required = false) String cursor,
                         @RequestParam(required = false) Integer limit) {
        int n = limit == null ? DEFAULT_LIMIT : limit;
        if (n < 1 || n > Orphans.MAX_LIMIT) {
            throw new ApiProblem(HttpStatus.BAD_REQUEST, "INVALID_LIMIT",
                    "limit must be 1 to " + Orphans.MAX_LIMIT + ".", false);
        }
        return orphans.page(cursor, n);
    }

    /** Removes the objects of an orphan (bytes that are no one's); 409 for an image id that has a record. */
    @DeleteMapping("/v1/storage/orphans/{imageId}")
    ResponseEntity<Void> remove(@PathVariable String imageId) {
        orphans.remove(imageId);
        return ResponseEntity.noContent().build();
    }
}
