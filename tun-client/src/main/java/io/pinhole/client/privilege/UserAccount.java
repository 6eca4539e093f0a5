package io.pinhole.client.privilege;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.Optional;

/**
 * A user to run as: its name, uid and primary gid, as the system's user database
 * ({@code getpwnam}, so NSS sources too) gives them.
 *
 * <p>Thread-safety: an immutable record; {@link #lookup} uses {@code getpwnam}'s static buffer
 * and is meant for the single setup thread.
 */
public record UserAccount(String name, int uid, int gid) {
    /**
     * The account named {@code name}, or empty when there is none.
     *
     * <p>{@code struct passwd} on 64-bit glibc: {@code pw_name} and {@code pw_passwd} (pointers),
     * then {@code pw_uid} and {@code pw_gid} (32 bits each).
     */
    public static Optional<UserAccount> lookup(String name) {
        if (name == null || name.isEmpty() || name.indexOf('\0') >= 0) {
            return Optional.empty();
        }
        Pointer entry = Unistd.getpwnam(name);
        if (entry == null) {
            return Optional.empty();
        }
        long ids = 2L * Native.POINTER_SIZE;
        return Optional.of(new UserAccount(name, entry.getInt(ids), entry.getInt(ids + 4)));
    }

    /** {@code nobody (uid 65534, gid 65534)}. */
    @Override
    public String toString() {
        return name + " (uid " + Integer.toUnsignedString(uid) + ", gid " + Integer.toUnsignedString(gid) + ")";
    }
}
