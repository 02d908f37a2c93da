package org.patientimages.gateway.upload;

import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpStatus;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * The files of one request (an archive's entries, a DICOMweb store's parts), staged one after another to be
 * recorded together or not at all: each under a key of its own, its type decided from its bytes, their bytes
 * together within the upload limit, at most {@code maxFiles} of them. Every key staged is in {@link #keys()}, for
 * the caller to discard when the request is refused; nothing is committed here.
 */
final class StagedFiles {

    /** How a request's refusals name it: "the archive", and its code and detail for too many files. */
    record Wording(String whole, String tooManyCode, String tooManyDetail) {
    }

    private final StagingArea staging;
    private final long limit;
    private final int maxFiles;
    private final Wording wording;
    private final List<UploadRecorder.File> files = new ArrayList<>();
    private final List<String> keys = new ArrayList<>();
    private long total;

    StagedFiles(StagingArea staging, long limit, int maxFiles, Wording wording) {
        this.staging = staging;
        this.limit = limit;
        this.maxFiles = maxFiles;
        this.wording = wording;
    }

    /** The keys staged so far, complete or not. */
    List<String> keys() {
        return keys;
    }

    /** The files staged, in their order. */
    List<UploadRecorder.File> files() {
        return files;
    }

    /**
     * Stages the next file. {@code label} names it in a refusal ("'a.png' in the archive"); {@code size}: its
     * declared size when known, else -1; {@code typeOf} decides its content type from its first bytes (or refuses
     * it). A file refused is refused with its label in front of the reason.
     */
    UploadRecorder.File stage(InputStream in, String label, String filename, long size,
                              Function<byte[], String> typeOf) throws IOException {
        if (files.size() == maxFiles) {
            throw ApiProblem.badRequest(wording.tooManyCode(), wording.tooManyDetail());
        }
        if (!staging.hasRoomFor(Math.max(size, 0))) {
            throw StagingArea.full();
        }
        UUID jobId = UUID.randomUUID();
        keys.add(jobId.toString());
        String[] contentType = {null};
        StagingArea.Staged staged;
        try {
            staged = staging.write(jobId.toString(), in, limit - total, head -> contentType[0] = typeOf.apply(head));
        } catch (ApiProblem refused) {
            throw refused.about(label);
        } catch (StagingArea.TooLarge e) {
            throw new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "FILE_TOO_LARGE",
                    wording.whole() + " together are larger than the limit of " + limit + " bytes.", false);
        }
        if (staged.sizeBytes() == 0) {
            throw ApiProblem.badRequest("EMPTY_FILE", label + " is empty.");
        }
        total += staged.sizeBytes();
        UploadRecorder.File file = new UploadRecorder.File(jobId, UUID.randomUUID(), filename, contentType[0], staged);
        files.add(file);
        return file;
    }
}
