package io.pinhole.config;

/**
 * JavaRuntime: which JVM a pinhole program runs on, for its first log line
 * ({@code bin/pinhole} and {@code bin/pinhole-rendezvous} pick the newest installed JDK of
 * version 17 or later, so the log says which one that was). Stateless; thread-safe.
 */
public final class JavaRuntime {
    private JavaRuntime() {
    }

    /** {@code Java 25.0.3+9-LTS (Eclipse Adoptium) at /usr/lib/jvm/temurin-25-jdk-amd64}. */
    public static String describe() {
        return "Java " + Runtime.version() + " (" + System.getProperty("java.vendor", "unknown vendor") + ") at "
                + System.getProperty("java.home", "an unknown place");
    }
}
