package io.pinhole.client.privilege;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The libc calls of the privilege drop ({@code <unistd.h>}, {@code <grp.h>}, {@code <pwd.h>},
 * {@code <sys/prctl.h>}, {@code <sys/capability.h>}'s raw syscall wrappers), bound with JNA
 * direct mapping. Calls that can fail declare {@link LastErrorException} (JNA throws it with
 * errno when the call fails). {@code prctl} is variadic in C; it is bound with four
 * {@code unsigned long} arguments, which matches the 64-bit Linux ABIs (x86-64, arm64).
 * glibc's {@code setresuid}, {@code setresgid} and {@code setgroups} change the credentials of
 * every thread of the process (the JVM's own threads included), not just the caller's.
 */
final class Unistd {
    static {
        Native.register(Unistd.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private Unistd() {
    }

    /** {@code uid_t geteuid(void)}. */
    static native int geteuid();

    /** {@code int setresuid(uid_t ruid, uid_t euid, uid_t suid)}. */
    static native int setresuid(int ruid, int euid, int suid) throws LastErrorException;

    /** {@code int setresgid(gid_t rgid, gid_t egid, gid_t sgid)}. */
    static native int setresgid(int rgid, int egid, int sgid) throws LastErrorException;

    /** {@code int setgroups(size_t size, const gid_t *list)}. */
    static native int setgroups(NativeLong size, int[] list) throws LastErrorException;

    /** {@code int prctl(int option, unsigned long arg2, arg3, arg4, arg5)}. */
    static native int prctl(int option, NativeLong arg2, NativeLong arg3, NativeLong arg4, NativeLong arg5)
            throws LastErrorException;

    /**
     * {@code int capset(cap_user_header_t header, cap_user_data_t data)}: {@code header} is
     * {@code {version, pid}}, {@code data} is {@code {effective, permitted, inheritable}} twice (the
     * low and the high 32 bits, version 3).
     */
    static native int capset(int[] header, int[] data) throws LastErrorException;

    /**
     * {@code struct passwd *getpwnam(const char *name)}: null when there is no such user (errno
     * is then not meaningful, so this binding declares no {@link LastErrorException}).
     */
    static native Pointer getpwnam(String name);

    /** {@code char *strerror(int errnum)}; only for messages. */
    static native String strerror(int errnum);

    /** {@code prctl} with numbers for its arguments. */
    static int prctl(int option, long arg2) throws LastErrorException {
        NativeLong zero = new NativeLong(0);
        return prctl(option, new NativeLong(arg2), zero, zero, zero);
    }

    /** {@code prctl(option, arg2, arg3, 0, 0)}. */
    static int prctl(int option, long arg2, long arg3) throws LastErrorException {
        NativeLong zero = new NativeLong(0);
        return prctl(option, new NativeLong(arg2), new NativeLong(arg3), zero, zero);
    }
}
