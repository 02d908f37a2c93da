package org.patientimages.metadata.feed;

import org.patientimages.metadata.access.Caller;
import org.patientimages.metadata.patient.VisiblePatients;
import org.patientimages.metadata.web.ApiException;
import org.patientimages.metadata.web.Paging;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.UUID;

@RestController
class ChangeFeedController {

    private final ChangeFeed feed;
    private final VisiblePatients visible;

    ChangeFeedController(ChangeFeed feed, VisiblePatients visible) {
        this.feed = feed;
        this.visible = visible;
    }

    /**
     * The image changes after {@code cursor}, of one patient or of every patient the caller may see;
     * {@code start=latest} (without a cursor) gives no changes and a cursor at the feed's end.
     */
    @GetMapping("/internal/v1/changes")
    ChangeFeed.ChangePage changes(@RequestParam(required = false) String cursor,
                                  @RequestParam(required = false) String start,
                                  @RequestParam(required = false) String patientId,
                                  @RequestParam(required = false) Integer limit, Caller caller) {
        int n = Paging.limit(limit);
        UUID patient = patientId == null ? null : visible.require(patientId, caller);
        if (start != null) {
            if (!start.equals("latest") || cursor != null) {
                throw ApiException.badRequest("INVALID_PARAMETER",
                        "start may only be 'latest', and not with a cursor.");
            }
            return feed.latest();
        }
        return feed.read(cursor, patient, caller.restricted() ? caller.name() : null, n);
    }
}
