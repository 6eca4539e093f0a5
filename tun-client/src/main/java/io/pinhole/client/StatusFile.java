package io.pinhole.client;

import io.pinhole.config.HostPort;
import io.pinhole.peer.PathKind;
import io.pinhole.peer.PeerDrop;
import io.pinhole.peer.PeerStatus;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.function.LongPredicate;
import java.util.regex.Pattern;

/**
 * StatusFile: the file in which a running {@code pinhole up} publishes its state once a second
 * (default {@code /run/pinhole/<dev>.status}; in a network namespace other than the host's,
 * {@code /run/pinhole/<dev>@net-<inode>.status}, see {@link #defaultPath(String, long, boolean)})
 * and from which {@code pinhole status} reads it.
 *
 * <p>Format: UTF-8 text, one {@code key=value} per line, exactly these keys in this order:
 * <pre>
 * device=tun0                    the TUN device
 * pid=4242                       the process writing the file
 * netns=4026531840               its network namespace (the inode of /proc/PID/ns/net), 0 if unknown
 * updated_ms=1718000000000       when it was written, epoch milliseconds
 * state=connected                the machine's state, lower case
 * path=direct                    direct | relayed | none
 * endpoint=198.51.100.2:40000    the partner (direct) or the relay (relayed), HOST:PORT or empty
 * rtt_ms=1.23                    round trip on that path, two decimals, or empty when not measured
 * tunnel=up                      up | down
 * public=203.0.113.7:40000       our endpoint as the rendezvous server sees it, or empty
 * direct_attempts=1
 * packets_sent=120
 * packets_received=118
 * drops=wrong_source:3,ipv6_not_allowed:5   what the machine dropped, by reason (PeerDrop, lower
 *                                          case): REASON:COUNT, comma-separated, empty when none
 * </pre>
 * IPv6 endpoints are written {@code [ADDR]:PORT}. A writer ({@link Handle}) opens the file once,
 * while it still may (before {@code pinhole up} drops its privileges), and rewrites it in place
 * through that descriptor: new text from offset 0, then the file cut to its length. A reader may
 * catch a write half done, so {@link #read} reads again (a few times, 20 ms apart) until the text
 * parses. A process that stops deletes its file when it can; one that runs unprivileged cannot
 * (the directory is root's), so it leaves its last status with {@code state=stopped},
 * {@code tunnel=down} and {@code path=none}. A file is stale when its process stopped or is gone,
 * or when it is older than {@link #STALE_AFTER_MILLIS}.
 *
 * <p>Thread-safety: static methods without shared state, and an immutable record: thread-safe.
 *
 * <p>Error contract: {@link #parse} and {@link #read} throw {@link MalformedException} for any
 * text that is not exactly this format, with a message naming the line and what is wrong (ready
 * for a user; no stack trace needed); {@link #read} lets {@link java.nio.file.NoSuchFileException}
 * and other {@link IOException}s through; {@link Handle#open} refuses a symbolic link (so that a
 * link planted in a writable directory cannot make root write elsewhere) and {@link Handle}'s
 * methods throw {@link IOException}.
 */
final class StatusFile {
    /** Where status files live by default. */
    static final Path DEFAULT_DIR = Path.of("/run/pinhole");
    /** A file not rewritten for longer than this is stale (the writer rewrites it every second). */
    static final long STALE_AFTER_MILLIS = 5_000;
    /** The keys, in their order in the file. */
    static final List<String> KEYS = List.of("device", "pid", "netns", "updated_ms", "state", "path", "endpoint", "rtt_ms",
            "tunnel", "public", "direct_attempts", "packets_sent", "packets_received", "drops");
    /** The state of a file whose process stopped and could not delete it. */
    static final String STOPPED = "stopped";
    private static final int MAX_BYTES = 4096;
    private static final int READ_ATTEMPTS = 5;
    private static final long READ_RETRY_MILLIS = 20;
    private static final long RTT_RESOLUTION_NANOS = 10_000;
    private static final Pattern DEVICE = Pattern.compile("[!-~&&[^/=]]{1,15}");
    private static final Pattern STATE = Pattern.compile("[a-z_]{1,40}");
    private static final Pattern RTT = Pattern.compile("\\d{1,12}\\.\\d\\d");
    private static final Pattern COUNT = Pattern.compile("\\d{1,18}");
    private static final Pattern NETNS = Pattern.compile("\\d{1,20}");
    private static final Pattern DROPS = Pattern.compile("([a-z0-9_]{1,40}:\\d{1,18}(,[a-z0-9_]{1,40}:\\d{1,18}){0,63})?");

    private StatusFile() {
    }

    /** The text is not a status file. The message says which line and why. */
    static final class MalformedException extends IOException {
        private static final long serialVersionUID = 1L;

        MalformedException(String message) {
            super(message);
        }
    }

    /**
     * One status file's content.
     *
     * @param rttNanos round trip in nanoseconds, a multiple of 10 µs (the file's resolution), or -1
     * @param endpoint HOST:PORT or empty; {@code publicEndpoint} likewise
     * @param drops drop counts by reason as the file writes them ({@code wrong_source:3,not_ip:1}), or empty
     */
    record Status(String device, long pid, long netns, long updatedMs, String state, PathKind path, String endpoint,
                  long rttNanos, boolean tunnelUp, String publicEndpoint, long directAttempts, long packetsSent,
                  long packetsReceived, String drops) {
        /**
         * The status of {@code machine} for {@code device}, written by process {@code pid} in network
         * namespace {@code netns} at {@code nowMs}.
         */
        static Status of(String device, long pid, long netns, long nowMs, PeerStatus machine) {
            long rtt = machine.rttNanos() < 0 ? -1
                    : (machine.rttNanos() + RTT_RESOLUTION_NANOS / 2) / RTT_RESOLUTION_NANOS * RTT_RESOLUTION_NANOS;
            return new Status(device, pid, netns, nowMs, machine.state().name().toLowerCase(Locale.ROOT), machine.path(),
                    hostPort(machine.endpoint()), rtt, machine.tunnelUp(), hostPort(machine.publicEndpoint()),
                    machine.directAttempts(), machine.packetsSent(), machine.packetsReceived(), drops(machine.drops()));
        }

        /** A status with nothing dropped. */
        Status(String device, long pid, long netns, long updatedMs, String state, PathKind path, String endpoint,
               long rttNanos, boolean tunnelUp, String publicEndpoint, long directAttempts, long packetsSent,
               long packetsReceived) {
            this(device, pid, netns, updatedMs, state, path, endpoint, rttNanos, tunnelUp, publicEndpoint,
                    directAttempts, packetsSent, packetsReceived, "");
        }

        /** This status as its process leaves it when it stops at {@code nowMs}: no tunnel, no path, counters kept. */
        Status stopped(long nowMs) {
            return new Status(device, pid, netns, nowMs, STOPPED, PathKind.NONE, "", -1, false, publicEndpoint,
                    directAttempts, packetsSent, packetsReceived, drops);
        }

        /** {@code wrong_source:3,not_ip:1}: each reason that happened, in {@link PeerDrop}'s order. */
        static String drops(java.util.Map<PeerDrop, Long> drops) {
            StringBuilder text = new StringBuilder();
            for (PeerDrop drop : PeerDrop.values()) {
                Long n = drops.get(drop);
                if (n != null && n > 0) {
                    text.append(text.length() == 0 ? "" : ",").append(drop.name().toLowerCase(Locale.ROOT)).append(':')
                            .append(n);
                }
            }
            return text.toString();
        }

        /** The round trip as the file writes it: {@code 1.23}, or empty when unknown. */
        String rttMillis() {
            return rttNanos < 0 ? "" : BigDecimal.valueOf(rttNanos).movePointLeft(6)
                    .setScale(2, RoundingMode.HALF_UP).toPlainString();
        }

        /** Why this status is stale at {@code nowMs}, or null when it is current. */
        String staleReason(long nowMs, LongPredicate pidAlive) {
            if (state.equals(STOPPED)) {
                return "process " + pid + " stopped at " + java.time.Instant.ofEpochMilli(updatedMs)
                        .truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " (running unprivileged, it could not "
                        + "remove the file)";
            }
            if (!pidAlive.test(pid)) {
                return "process " + pid + " is not running (it ended without removing the file: killed?)";
            }
            long age = nowMs - updatedMs;
            if (age > STALE_AFTER_MILLIS) {
                return String.format(Locale.ROOT, "it was last updated %.1f s ago, though process %d rewrites it "
                        + "every second (is it stuck?)", age / 1000.0, pid);
            }
            return null;
        }
    }

    /** The status file of {@code device} in the host's network namespace. */
    static Path defaultPath(String device) {
        return DEFAULT_DIR.resolve(device + ".status");
    }

    /**
     * The default status file of {@code device} for a process in network namespace {@code netns}:
     * {@link #defaultPath(String)} in the host's namespace (or when the namespace is unknown), else
     * {@link #namespacedPath}, so that pinholes with the same device name in two namespaces (which
     * share /run) never share a file.
     */
    static Path defaultPath(String device, long netns, boolean initialNamespace) {
        return initialNamespace || netns == 0 ? defaultPath(device) : namespacedPath(device, netns);
    }

    /** {@code /run/pinhole/<device>@net-<netns>.status}. */
    static Path namespacedPath(String device, long netns) {
        return namespacedPath(DEFAULT_DIR, device, netns);
    }

    /** {@code <dir>/<device>@net-<netns>.status}. */
    static Path namespacedPath(Path dir, String device, long netns) {
        return dir.resolve(device + "@net-" + Long.toUnsignedString(netns) + ".status");
    }

    /** True when {@code pid} names a running process. */
    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** {@code 198.51.100.2:40000}, {@code [2001:db8::1]:40000}, or empty for null. */
    static String hostPort(InetSocketAddress address) {
        return address == null ? "" : HostPort.format(address);
    }

    /** The file's text for {@code status}. */
    static String format(Status status) {
        String[] values = {status.device(), Long.toString(status.pid()), Long.toUnsignedString(status.netns()),
            Long.toString(status.updatedMs()),
            status.state(), status.path().name().toLowerCase(Locale.ROOT), status.endpoint(), status.rttMillis(),
            status.tunnelUp() ? "up" : "down", status.publicEndpoint(), Long.toString(status.directAttempts()),
            Long.toString(status.packetsSent()), Long.toString(status.packetsReceived()), status.drops()};
        StringBuilder text = new StringBuilder(256);
        for (int i = 0; i < values.length; i++) {
            text.append(KEYS.get(i)).append('=').append(values[i]).append('\n');
        }
        return text.toString();
    }

    /** Parses a status file's text. */
    static Status parse(String text) throws MalformedException {
        List<String> lines = text.lines().toList();
        String[] values = new String[KEYS.size()];
        for (int i = 0; i < KEYS.size(); i++) {
            String key = KEYS.get(i);
            if (i >= lines.size()) {
                throw new MalformedException("line " + (i + 1) + ": expected '" + key + "=...', but the file ends"
                        + " there");
            }
            String line = lines.get(i);
            if (!line.startsWith(key + "=")) {
                throw new MalformedException("line " + (i + 1) + ": expected '" + key + "=...', found '"
                        + shorten(line) + "'");
            }
            values[i] = line.substring(key.length() + 1);
        }
        if (lines.size() > KEYS.size()) {
            throw new MalformedException("line " + (KEYS.size() + 1) + ": unexpected '"
                    + shorten(lines.get(KEYS.size())) + "' after the last key");
        }
        long pid = count(values, 1);
        if (pid == 0) {
            throw bad(values, 1, "a process id");
        }
        return new Status(matching(values, 0, DEVICE, "a device name"), pid, netns(values), count(values, 3),
                matching(values, 4, STATE, "a state name"), pathKind(values), endpoint(values, 6), rtt(values),
                upDown(values), endpoint(values, 9), count(values, 10), count(values, 11), count(values, 12),
                matching(values, 13, DROPS, "REASON:COUNT,... or nothing"));
    }

    /**
     * Reads and parses {@code file}, reading again while the text does not parse (a write caught
     * half done), at most {@value #READ_ATTEMPTS} times; a malformed file's message starts with
     * its path.
     */
    static Status read(Path file) throws IOException {
        return parse(file, readStable(file));
    }

    /**
     * The text of {@code file} once it parses, or, after {@value #READ_ATTEMPTS} reads that do
     * not, the last one read (which {@link #parse(Path, String)} then refuses with its reason).
     */
    static String readStable(Path file) throws IOException {
        String text = readText(file);
        for (int attempt = 1; attempt < READ_ATTEMPTS && !parses(text); attempt++) {
            try {
                Thread.sleep(READ_RETRY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            text = readText(file);
        }
        return text;
    }

    private static boolean parses(String text) {
        try {
            parse(text);
            return true;
        } catch (MalformedException e) {
            return false;
        }
    }

    /** The text of {@code file} (at most 4 KiB, or it is no status file). */
    static String readText(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES) {
            throw new MalformedException(file + " is not a pinhole status file: larger than " + MAX_BYTES + " bytes");
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** {@link #parse(String)} with the message of a malformed text starting with {@code file}. */
    static Status parse(Path file, String text) throws MalformedException {
        try {
            return parse(text);
        } catch (MalformedException e) {
            throw new MalformedException(file + " is not a pinhole status file: " + e.getMessage());
        }
    }

    /** Writes {@code status} to {@code file} once: {@link Handle#open}, {@link Handle#write}, close. */
    static void write(Path file, Status status) throws IOException {
        try (Handle handle = Handle.open(file)) {
            handle.write(status);
        }
    }

    /**
     * A status file open for writing by one {@code pinhole up}, which rewrites it in place (see
     * the class comment).
     *
     * <p>Thread-safety: one writer thread at a time ({@code pinhole-status}, then the stopping
     * thread after it ended). Lifecycle: {@link #open}, {@link #write} any number of times,
     * {@link #remove} or {@link #close}.
     */
    static final class Handle implements java.io.Closeable {
        private final Path file;
        private final java.nio.channels.FileChannel channel;

        private Handle(Path file, java.nio.channels.FileChannel channel) {
            this.file = file;
            this.channel = channel;
        }

        /**
         * Opens {@code file}, creating it (mode 0644, readable by every user) if missing; an
         * existing file is neither cut nor changed until {@link #write}.
         *
         * @throws IOException if it cannot be opened or created, or is a symbolic link
         */
        static Handle open(Path file) throws IOException {
            java.nio.file.attribute.FileAttribute<?> mode = PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-r--r--"));
            java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file,
                    java.util.Set.of(java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS), mode);
            return new Handle(file, channel);
        }

        /** The file's path. */
        Path path() {
            return file;
        }

        /** Rewrites the file with {@code status}: the new text from offset 0, then the file cut to it. */
        void write(Status status) throws IOException {
            ByteBuffer bytes = ByteBuffer.wrap(format(status).getBytes(StandardCharsets.UTF_8));
            long at = 0;
            while (bytes.hasRemaining()) {
                at += channel.write(bytes, at);
            }
            channel.truncate(at);
        }

        /**
         * Called when the writer stops: deletes the file when allowed; when not (an unprivileged
         * process in root's directory), rewrites it as {@code last} {@linkplain Status#stopped
         * stopped} at {@code nowMs} instead. Closes the handle either way.
         *
         * @return true when the file was deleted
         */
        boolean remove(Status last, long nowMs) throws IOException {
            try (this) {
                try {
                    Files.delete(file);
                    return true;
                } catch (java.nio.file.AccessDeniedException e) {
                    if (last != null) {
                        write(last.stopped(nowMs));
                    }
                    return false;
                }
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static String matching(String[] values, int index, Pattern pattern, String what)
            throws MalformedException {
        if (!pattern.matcher(values[index]).matches()) {
            throw bad(values, index, what);
        }
        return values[index];
    }

    private static long count(String[] values, int index) throws MalformedException {
        return Long.parseLong(matching(values, index, COUNT, "a whole number"));
    }

    /** The network namespace's inode number (an unsigned 64-bit number; 0 = unknown). */
    private static long netns(String[] values) throws MalformedException {
        try {
            return Long.parseUnsignedLong(matching(values, 2, NETNS, "a namespace inode number"));
        } catch (NumberFormatException e) {
            throw bad(values, 2, "a namespace inode number");
        }
    }

    private static PathKind pathKind(String[] values) throws MalformedException {
        for (PathKind kind : PathKind.values()) {
            if (kind.name().toLowerCase(Locale.ROOT).equals(values[5])) {
                return kind;
            }
        }
        throw bad(values, 5, "direct, relayed or none");
    }

    private static String endpoint(String[] values, int index) throws MalformedException {
        if (!values[index].isEmpty()) {
            try {
                HostPort.parse(values[index], false);
            } catch (IllegalArgumentException e) {
                throw bad(values, index, "HOST:PORT or nothing");
            }
        }
        return values[index];
    }

    private static long rtt(String[] values) throws MalformedException {
        if (values[7].isEmpty()) {
            return -1;
        }
        return new BigDecimal(matching(values, 7, RTT, "milliseconds with two decimals, or nothing"))
                .movePointRight(6).longValueExact();
    }

    private static boolean upDown(String[] values) throws MalformedException {
        return switch (values[8]) {
            case "up" -> true;
            case "down" -> false;
            default -> throw bad(values, 8, "up or down");
        };
    }

    private static MalformedException bad(String[] values, int index, String expected) {
        return new MalformedException("line " + (index + 1) + ": " + KEYS.get(index) + " '" + shorten(values[index])
                + "' is not " + expected);
    }

    /** At most 60 characters of untrusted text, control characters shown as '?'. */
    private static String shorten(String text) {
        String cut = text.length() > 60 ? text.substring(0, 60) + "..." : text;
        return cut.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
