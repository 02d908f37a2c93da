package org.patientimages.localstack;

import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Gets access tokens from an OpenID Connect issuer the way a user or a machine would: a user signs in on the
 * issuer's login form in the authorization code flow with PKCE (client {@code patient-images-cli}); a machine
 * uses its client credentials. For {@code ./dev token} and the tests.
 */
public final class Tokens {

    public static final String CLI_CLIENT = "patient-images-cli";
    public static final String CLI_REDIRECT = "http://127.0.0.1:8400/callback";
    public static final String UPLOADER_CLIENT = "patient-images-uploader";
    public static final String UPLOADER_DEV_SECRET = "uploader-dev-secret";

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern CSRF = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"");

    private Tokens() {
    }

    /** The dev stack's password of a demo user (admin, alice, bob, auditor). */
    public static String devPassword(String user) {
        return user + "-dev-password";
    }

    /** A user's access token: sign in on the login form, authorize, exchange the code. */
    public static String forUser(URI issuer, String user, String password) {
        HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        String state = Long.toHexString(new SecureRandom().nextLong());
        String authorize = issuer + "/oauth2/authorize?" + form(Map.of(
                "response_type", "code", "client_id", CLI_CLIENT, "redirect_uri", CLI_REDIRECT, "scope", "openid",
                "state", state, "code_challenge", challenge(verifier), "code_challenge_method", "S256"));

        HttpResponse<String> response = send(http, HttpRequest.newBuilder(URI.create(authorize)).GET());
        String loginPage = send(http, HttpRequest.newBuilder(issuer.resolve("/login")).GET()).body();
        var csrf = CSRF.matcher(loginPage);
        if (response.statusCode() != 302 || !csrf.find()) {
            throw new IllegalStateException("the issuer did not offer its login form (" + response.statusCode() + ")");
        }
        response = send(http, HttpRequest.newBuilder(issuer.resolve("/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(Map.of(
                        "username", user, "password", password, "_csrf", csrf.group(1))))));
        String next = response.headers().firstValue("Location").orElse("");
        if (response.statusCode() != 302 || next.contains("error")) {
            throw new IllegalStateException("sign-in refused for " + user);
        }
        // back to the authorization endpoint, which now redirects to the client with a code
        String location = next;
        for (int hops = 0; hops < 5 && !location.startsWith(CLI_REDIRECT); hops++) {
            response = send(http, HttpRequest.newBuilder(issuer.resolve(location)).GET());
            location = response.headers().firstValue("Location")
                    .orElseThrow(() -> new IllegalStateException("the issuer gave no authorization code"));
        }
        Map<String, String> callback = query(URI.create(location).getRawQuery());
        if (!state.equals(callback.get("state")) || callback.get("code") == null) {
            throw new IllegalStateException("the issuer answered without a code: " + callback.get("error"));
        }
        return token(http, issuer, HttpRequest.newBuilder(issuer.resolve("/oauth2/token")), Map.of(
                "grant_type", "authorization_code", "code", callback.get("code"), "redirect_uri", CLI_REDIRECT,
                "client_id", CLI_CLIENT, "code_verifier", verifier));
    }

    /** A machine's access token (client credentials). */
    public static String forClient(URI issuer, String clientId, String secret) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        return token(http, issuer, HttpRequest.newBuilder(issuer.resolve("/oauth2/token"))
                .header("Authorization", "Basic " + basic), Map.of("grant_type", "client_credentials"));
    }

    private static String token(HttpClient http, URI issuer, HttpRequest.Builder request, Map<String, String> form) {
        HttpResponse<String> response = send(http, request.header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form(form))));
        if (response.statusCode() != 200) {
            throw new IllegalStateException("the token endpoint of " + issuer + " answered " + response.statusCode());
        }
        return JSON.readTree(response.body()).path("access_token").asString();
    }

    private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder request) {
        try {
            // as a browser: the issuer sends only browsers to its login form
            return http.send(request.header("Accept", "text/html").timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String challenge(String verifier) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String form(Map<String, String> values) {
        return values.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> values = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    values.put(pair.substring(0, eq),
                            java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return values;
    }
}
