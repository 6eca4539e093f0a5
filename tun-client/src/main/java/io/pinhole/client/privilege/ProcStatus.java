package io.pinhole.client.privilege;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The credentials in a {@code /proc/PID/status} (or {@code /proc/PID/task/TID/status}) text:
 * the four uids and gids (real, effective, saved, filesystem), the capability sets and
 * no-new-privs.
 *
 * <p>Thread-safety: an immutable record. Error contract: {@link #parse} throws
 * {@link IllegalArgumentException} naming the first line that is missing or malformed;
 * {@link #read} adds the file's {@link IOException}.
 */
public record ProcStatus(long[] uids, long[] gids, long capEff, long capPrm, long capBnd, long capAmb,
                         boolean noNewPrivs) {
    /** Parses a status text. */
    public static ProcStatus parse(String text) {
        return new ProcStatus(ids(text, "Uid"), ids(text, "Gid"), caps(text, "CapEff"), caps(text, "CapPrm"),
                caps(text, "CapBnd"), caps(text, "CapAmb"), Long.parseLong(field(text, "NoNewPrivs")) == 1);
    }

    /** Reads and parses {@code file}. */
    public static ProcStatus read(Path file) throws IOException {
        try {
            return parse(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** True when all four uids are {@code uid} and all four gids are {@code gid}. */
    public boolean runsAs(int uid, int gid) {
        long u = Integer.toUnsignedLong(uid);
        long g = Integer.toUnsignedLong(gid);
        return Arrays.stream(uids).allMatch(id -> id == u) && Arrays.stream(gids).allMatch(id -> id == g);
    }

    /** {@code uids 65534/65534/65534/65534, gids ..., CapEff 0000000000000000, ...}, for messages. */
    public String describe() {
        return String.format("uids %s, gids %s, CapEff %016x, CapPrm %016x, CapBnd %016x, CapAmb %016x, NoNewPrivs %d",
                join(uids), join(gids), capEff, capPrm, capBnd, capAmb, noNewPrivs ? 1 : 0);
    }

    private static String join(long[] ids) {
        return String.join("/", Arrays.stream(ids).mapToObj(Long::toString).toArray(String[]::new));
    }

    private static long[] ids(String text, String key) {
        String[] parts = field(text, key).split("\\s+");
        if (parts.length != 4) {
            throw new IllegalArgumentException(key + ": expected four ids, found '" + field(text, key) + "'");
        }
        return Arrays.stream(parts).mapToLong(Long::parseLong).toArray();
    }

    private static long caps(String text, String key) {
        return Long.parseUnsignedLong(field(text, key), 16);
    }

    private static String field(String text, String key) {
        return text.lines().filter(line -> line.startsWith(key + ":")).findFirst()
                .map(line -> line.substring(key.length() + 1).strip())
                .orElseThrow(() -> new IllegalArgumentException("no '" + key + ":' line"));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ProcStatus s && Arrays.equals(uids, s.uids) && Arrays.equals(gids, s.gids)
                && capEff == s.capEff && capPrm == s.capPrm && capBnd == s.capBnd && capAmb == s.capAmb
                && noNewPrivs == s.noNewPrivs;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(uids) * 31 + Long.hashCode(capEff);
    }

    @Override
    public String toString() {
        return describe();
    }
}
