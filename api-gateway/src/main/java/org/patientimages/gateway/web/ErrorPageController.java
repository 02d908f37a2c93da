package org.patientimages.gateway.web;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.net.URI;

/**
 * Errors the servlet container answers before our handlers see the request (a read that timed out, a
 * malformed request line) are problem documents too.
 */
@RestController
class ErrorPageController implements ErrorController {

    @RequestMapping("/error")
    ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        HttpStatusCode status = HttpStatusCode.valueOf(code instanceof Integer c ? c : 500);
        String name = status.value() == 408 ? "REQUEST_TIMEOUT"
                : status.is4xxClientError() ? "BAD_REQUEST" : "INTERNAL_ERROR";
        String detail = status.value() == 408
                ? "The request body arrived too slowly or ended before its declared length; send it again."
                : "The request could not be processed.";
        var response = ProblemHandler.problem(status, name, detail, status.value() == 408 || status.is5xxServerError(),
                request);
        Object uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        if (uri != null) {
            response.getBody().setInstance(URI.create(uri.toString()));
        }
        return response;
    }
}
