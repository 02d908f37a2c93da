package org.patientimages.localstack;

import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.blobstore.BlobStore;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A real S3 API server (s3proxy): SigV4 is checked, multipart uploads and presigned URLs work, path-style
 * addressing. Objects live as files under a base directory, or in memory when none is given.
 */
public final class LocalS3 implements AutoCloseable {

    public static final String DEV_ACCESS_KEY = "minioadmin";
    public static final String DEV_SECRET_KEY = "minioadmin";

    private final S3Proxy proxy;
    private final BlobStore blobStore;

    private LocalS3(S3Proxy proxy, BlobStore blobStore) {
        this.proxy = proxy;
        this.blobStore = blobStore;
    }

    /** An in-memory store on a free port with the dev credentials, for tests. */
    public static LocalS3 startTransient() {
        return start(0, null, DEV_ACCESS_KEY, DEV_SECRET_KEY);
    }

    /**
     * @param port    0 for a free port
     * @param baseDir where objects are kept; {@code null} keeps them in memory
     */
    public static LocalS3 start(int port, Path baseDir, String accessKey, String secretKey) {
        try {
            Properties p = new Properties();
            p.setProperty("s3proxy.endpoint", "http://127.0.0.1:" + port);
            p.setProperty("s3proxy.authorization", "aws-v2-or-v4");
            p.setProperty("s3proxy.identity", accessKey);
            p.setProperty("s3proxy.credential", secretKey);
            String provider;
            if (baseDir == null) {
                provider = "transient-nio2";
            } else {
                Files.createDirectories(baseDir);
                provider = "filesystem-nio2";
                p.setProperty("jclouds.filesystem.basedir", baseDir.toAbsolutePath().toString());
            }
            p.setProperty("jclouds.provider", provider);
            p.setProperty("jclouds.identity", accessKey);
            p.setProperty("jclouds.credential", secretKey);
            BlobStore blobStore = BlobStores.create(provider, p);
            S3Proxy proxy = S3Proxy.Builder.fromProperties(p).blobStore(blobStore).build();
            proxy.start();
            while (!"STARTED".equals(proxy.getState())) {
                Thread.onSpinWait();
            }
            return new LocalS3(proxy, blobStore);
        } catch (Exception e) {
            throw new IllegalStateException("the S3 API server did not start: " + e.getMessage(), e);
        }
    }

    public int port() {
        return proxy.getPort();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port());
    }

    /** Creates the bucket unless it exists. */
    public LocalS3 createBucket(String bucket) {
        if (!blobStore.containerExists(bucket)) {
            blobStore.createContainer(bucket);
        }
        return this;
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("the S3 API server did not stop cleanly", e);
        }
    }
}
