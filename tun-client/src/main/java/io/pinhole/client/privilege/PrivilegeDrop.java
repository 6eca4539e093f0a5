package io.pinhole.client.privilege;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * PrivilegeDrop carries out a {@link PrivilegePlan} and checks that it took.
 *
 * <p>Switching user, in this order: drop every capability but the kept ones from the bounding
 * set (while CAP_SETPCAP is still there); keep the permitted set across the switch only when
 * something is kept ({@code PR_SET_KEEPCAPS}); {@code setgroups} to the user's primary group
 * alone, {@code setresgid}, {@code setresuid} (glibc applies each to every thread); set the
 * effective and permitted sets to the kept ones ({@code capset}); clear the ambient set; set
 * no-new-privs. Then every thread in {@code /proc/self/task} must show the new uid and gid, and
 * the calling thread ({@code /proc/thread-self/status}) exactly the kept capabilities and
 * no-new-privs, or the drop failed. The bounding set, the ambient set, the capabilities (when no
 * uid changes) and no-new-privs are per thread in Linux: they reach the calling thread and the
 * threads it starts afterwards (every thread that handles packets), not the JVM's own earlier
 * threads; {@link Outcome} counts those. Dropping capabilities without switching user does the same
 * without the id calls (the bounding set only where CAP_SETPCAP allows).
 *
 * <p>Before switching, the JVM's perf-data file ({@code /tmp/hsperfdata_root/PID}) is removed,
 * because the unprivileged JVM could not remove it at exit (only {@code jps} and {@code jstat}
 * used it).
 *
 * <p>Thread-safety: call once, from the set-up thread; the change applies to the whole process
 * and cannot be undone. Error contract: {@link PrivilegeException} naming the step and errno;
 * a process that gets one must exit without handling packets (some steps may have been done).
 */
public final class PrivilegeDrop {
    private static final Path SELF = Path.of("/proc/self");

    private PrivilegeDrop() {
    }

    /** The permitted capabilities of this process now (0 when /proc cannot be read). */
    public static long permitted() {
        try {
            return ProcStatus.read(SELF.resolve("status")).capPrm();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The effective uid this process runs with. */
    public static int euid() {
        return Unistd.geteuid();
    }

    /**
     * Does {@code plan}.
     *
     * @return the credentials afterwards, as checked
     */
    public static Outcome apply(PrivilegePlan plan) throws PrivilegeException {
        if (plan.action() == PrivilegePlan.Action.NONE) {
            return check(-1, -1, -1, false);
        }
        boolean switching = plan.action() == PrivilegePlan.Action.SWITCH_USER;
        dropBounding(plan.keep(), switching);
        if (switching) {
            removePerfData();
            UserAccount user = plan.user();
            if (plan.keep() != 0) {
                call(() -> Unistd.prctl(Prctl.PR_SET_KEEPCAPS, 1), "prctl(PR_SET_KEEPCAPS, 1)");
            }
            call(() -> Unistd.setgroups(new NativeLong(1), new int[] {user.gid()}), "setgroups([" + user.gid() + "])");
            call(() -> Unistd.setresgid(user.gid(), user.gid(), user.gid()), "setresgid(" + user.gid() + ")");
            call(() -> Unistd.setresuid(user.uid(), user.uid(), user.uid()), "setresuid(" + user.uid() + ")");
        }
        int low = (int) plan.keep();
        int high = (int) (plan.keep() >>> 32);
        call(() -> Unistd.capset(new int[] {Capability.LINUX_CAPABILITY_VERSION_3, 0},
                new int[] {low, low, 0, high, high, 0}), "capset(" + Capability.names(plan.keep()) + ")");
        call(() -> Unistd.prctl(Prctl.PR_CAP_AMBIENT, Prctl.PR_CAP_AMBIENT_CLEAR_ALL), "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
        call(() -> Unistd.prctl(Prctl.PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS, 1)");
        return switching ? check(plan.user().uid(), plan.user().gid(), plan.keep(), true)
                : check(-1, -1, plan.keep(), true);
    }

    /** Removes from the bounding set every capability not in {@code keep}; stops at the first the kernel lacks. */
    private static void dropBounding(long keep, boolean mustWork) throws PrivilegeException {
        for (int cap = 0; cap < 64; cap++) {
            if ((keep & Capability.bit(cap)) != 0) {
                continue;
            }
            try {
                Unistd.prctl(Prctl.PR_CAPBSET_DROP, cap);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.EINVAL) {
                    return; // past the kernel's last capability
                }
                if (mustWork || e.getErrorCode() != Errno.EPERM) {
                    throw failed("prctl(PR_CAPBSET_DROP, " + cap + ")", e);
                }
                return; // no CAP_SETPCAP (started unprivileged): the bounding set stays; no-new-privs covers execve
            }
        }
    }

    private static void removePerfData() {
        Path file = Path.of(System.getProperty("java.io.tmpdir"), "hsperfdata_" + System.getProperty("user.name"),
                Long.toString(ProcessHandle.current().pid()));
        try {
            Files.deleteIfExists(file);
        } catch (IOException | RuntimeException e) {
            // it only serves jps; the JVM tries again at exit
        }
    }

    /**
     * What the drop left: the calling thread's credentials, and how many of the process's
     * threads (the JVM's own, started before pinhole's code ran, among them) still lack
     * no-new-privs or still hold capabilities. Linux keeps both per thread: {@code prctl} and
     * {@code capset} change only the calling thread and the threads it starts later (all of
     * pinhole's packet threads), while glibc's {@code setresuid} reaches every thread, and the
     * kernel clears every thread's capabilities when its uids all leave 0.
     *
     * @param self the calling thread's credentials after the drop
     * @param threads how many threads were looked at
     * @param withoutNoNewPrivs threads without no-new-privs (0 when the launcher set it for the
     *     whole process: {@code bin/pinhole} does, with {@code setpriv --no-new-privs})
     * @param withCapabilities threads that still hold capabilities beyond the kept ones
     */
    public record Outcome(ProcStatus self, int threads, int withoutNoNewPrivs, int withCapabilities) {
    }

    /**
     * Reads back the credentials: every thread's uid and gid (unless {@code uid} is -1), the
     * calling thread's effective and permitted capabilities (unless {@code caps} is -1) and, if
     * asked, its no-new-privs; counts the threads without no-new-privs and with capabilities.
     */
    private static Outcome check(int uid, int gid, long caps, boolean noNewPrivs) throws PrivilegeException {
        ProcStatus self;
        int threads = 0;
        int withoutNnp = 0;
        int withCaps = 0;
        try {
            self = ProcStatus.read(Path.of("/proc/thread-self/status"));
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(SELF.resolve("task"))) {
                for (Path task : tasks) {
                    ProcStatus thread;
                    try {
                        thread = ProcStatus.read(task.resolve("status"));
                    } catch (java.nio.file.NoSuchFileException e) {
                        continue; // the thread ended meanwhile
                    }
                    if (uid != -1 && !thread.runsAs(uid, gid)) {
                        throw new PrivilegeException("the privilege drop did not reach thread " + task.getFileName()
                                + ": " + thread.describe() + "; not going on with privileges", "setresuid", 0, false);
                    }
                    threads++;
                    withoutNnp += thread.noNewPrivs() ? 0 : 1;
                    withCaps += caps != -1 && ((thread.capEff() | thread.capPrm()) & ~caps) != 0 ? 1 : 0;
                }
            }
        } catch (IOException e) {
            throw new PrivilegeException("cannot check the privilege drop in /proc/self: " + e.getMessage(),
                    "read /proc/self/status", 0, false);
        }
        boolean ok = (uid == -1 || self.runsAs(uid, gid)) && (caps == -1 || self.capEff() == caps && self.capPrm() == caps)
                && (!noNewPrivs || self.noNewPrivs());
        if (!ok) {
            throw new PrivilegeException("the privilege drop did not take: " + self.describe()
                    + "; not going on with privileges", "check /proc/thread-self/status", 0, false);
        }
        return new Outcome(self, threads, withoutNnp, withCaps);
    }

    /** A libc call that reports failure by exception. */
    private interface Call {
        int run() throws LastErrorException;
    }

    private static void call(Call call, String what) throws PrivilegeException {
        try {
            call.run();
        } catch (LastErrorException e) {
            throw failed(what, e);
        }
    }

    private static PrivilegeException failed(String what, LastErrorException e) {
        int errno = e.getErrorCode();
        String text;
        try {
            text = Unistd.strerror(errno);
        } catch (RuntimeException | LinkageError ignored) {
            text = "error " + errno;
        }
        return new PrivilegeException("cannot drop privileges: " + what + " failed: errno " + errno + " (" + text
                + "); give --user root to run as root knowingly", what, errno, false);
    }

    /** The two errno values the drop tells apart ({@code <errno.h>}). */
    private static final class Errno {
        static final int EPERM = 1;
        static final int EINVAL = 22;
    }
}
