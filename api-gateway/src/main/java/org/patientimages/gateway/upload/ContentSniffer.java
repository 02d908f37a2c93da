package org.patientimages.gateway.upload;

import org.apache.tika.Tika;
import org.patientimages.gateway.web.ApiProblem;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;

/**
 * Decides what an upload is from its first bytes (Apache Tika's magic), never from the client's header or
 * file name, and refuses what the allow-list does not name with {@code 415 UNSUPPORTED_MEDIA_TYPE}. Bytes
 * that nothing recognises are {@code application/octet-stream}, so an opaque blob can still be stored.
 */
@Component
public class ContentSniffer {

    private static final byte[] DICOM_MAGIC = "DICM".getBytes(StandardCharsets.US_ASCII);
    private static final int DICOM_MAGIC_OFFSET = 128;

    private final Tika tika = new Tika();
    private final Set<String> allowed;

    ContentSniffer(UploadProperties properties) {
        this.allowed = Set.copyOf(properties.allowedContentTypes());
    }

    /** The content type of bytes that start with {@code head}; throws 415 for a type that is not allowed. */
    public String check(byte[] head) {
        if (isDicom(head) && startsWithExecutableHeader(head)) {
            throw unsupported("a DICOM file whose preamble carries an executable header");
        }
        String type = isDicom(head) ? "application/dicom" : tika.detect(head);
        if (!allowed.contains(type)) {
            throw unsupported(type);
        }
        return type;
    }

    private static boolean isDicom(byte[] head) {
        return head.length >= DICOM_MAGIC_OFFSET + DICOM_MAGIC.length && Arrays.equals(head, DICOM_MAGIC_OFFSET,
                DICOM_MAGIC_OFFSET + DICOM_MAGIC.length, DICOM_MAGIC, 0, DICOM_MAGIC.length);
    }

    private static boolean startsWithExecutableHeader(byte[] head) {
        return (head[0] == 'M' && head[1] == 'Z') || (head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F');
    }

    private ApiProblem unsupported(String what) {
        return new ApiProblem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
                "The file's bytes are " + what + ", which is not accepted; accepted: " + String.join(", ",
                        allowed.stream().sorted().toList()) + ".", false);
    }
}
