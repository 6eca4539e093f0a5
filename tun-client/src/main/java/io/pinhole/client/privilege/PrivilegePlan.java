package io.pinhole.client.privilege;

import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code pinhole up} gives up once it is set up: the decision alone, from the facts it
 * depends on, with no system call (so every case is tested without root).
 *
 * <ul>
 *   <li>Started as root: switch to {@code --user} (default {@link #DEFAULT_USER}), keeping no
 *       capability, except CAP_NET_RAW when spare sockets must still be bound to the underlay
 *       device later (birthday punching) on a kernel before 5.7, where {@code SO_BINDTODEVICE}
 *       needs it. {@code --user root} keeps root ({@link Action#NONE}).
 *   <li>Started as another user (with capabilities from systemd's AmbientCapabilities, say):
 *       drop the capabilities, with the same exception; {@code --user} other than oneself is a
 *       usage error (only root can switch).
 * </ul>
 * Nothing after set-up needs CAP_NET_ADMIN: closing the TUN descriptor removes the device and its
 * routes; the sockets, their TTL and the status file are already open; new spare sockets bind to
 * ports above 1023.
 *
 * <p>Thread-safety: an immutable record. Error contract: {@link #decide} throws
 * {@link PrivilegeException}, a usage one for a bad {@code --user}.
 *
 * @param action what to do
 * @param user the user to switch to ({@link Action#SWITCH_USER} only), else null
 * @param keep the capabilities kept (bits of {@code <linux/capability.h>}), usually 0
 * @param why why {@code keep} is not empty, or why nothing is dropped; empty otherwise
 */
public record PrivilegePlan(Action action, UserAccount user, long keep, String why) {
    /** The user a root {@code pinhole up} runs as when {@code --user} is not given. */
    public static final String DEFAULT_USER = "nobody";
    /** {@code --user} that keeps root. */
    public static final String ROOT = "root";
    private static final Pattern RELEASE = Pattern.compile("(\\d{1,6})\\.(\\d{1,6}).*");

    /** What to do. */
    public enum Action {
        /** Switch every thread to another user, capabilities gone (or {@code keep}), no-new-privs. */
        SWITCH_USER,
        /** Stay the same user; drop the capabilities (or all but {@code keep}); no-new-privs. */
        DROP_CAPABILITIES,
        /** Keep everything ({@code --user root} as root). */
        NONE
    }

    /**
     * @param euid the effective uid the process started with
     * @param requested {@code --user}, or null when not given
     * @param users the user database ({@link UserAccount#lookup} in production)
     * @param permitted the process's permitted capabilities now
     * @param kernelRelease {@code uname -r}, e.g. {@code 6.1.0-18-amd64}
     * @param bindsLater whether sockets opened later (birthday's spare sockets) are bound to a device
     */
    public static PrivilegePlan decide(int euid, String requested, Function<String, Optional<UserAccount>> users,
                                       long permitted, String kernelRelease, boolean bindsLater)
            throws PrivilegeException {
        boolean oldBind = bindsLater && !bindToDeviceUnprivileged(kernelRelease);
        long keep = oldBind ? Capability.bit(Capability.CAP_NET_RAW) : 0;
        String why = oldBind ? "kernel " + kernelRelease + " (before 5.7) lets only CAP_NET_RAW bind the spare sockets "
                + "of birthday punching to the underlay device" : "";
        if (euid != 0) {
            if (requested != null) {
                Optional<UserAccount> asked = users.apply(requested);
                if (asked.isEmpty() || asked.get().uid() != euid) {
                    throw PrivilegeException.usage("--user " + requested + " needs root: started as uid "
                            + Integer.toUnsignedString(euid) + ", pinhole can only drop its own capabilities "
                            + "(leave --user out)");
                }
            }
            return new PrivilegePlan(Action.DROP_CAPABILITIES, null, keep & permitted, why);
        }
        String name = requested != null ? requested : DEFAULT_USER;
        if (name.equals(ROOT)) {
            return new PrivilegePlan(Action.NONE, null, 0, "--user root: every packet is parsed as root, with all "
                    + "its capabilities");
        }
        Optional<UserAccount> account = users.apply(name);
        if (account.isEmpty()) {
            throw requested != null
                    ? PrivilegeException.usage("--user " + name + ": no such user (`getent passwd " + name + "` finds none)")
                    : new PrivilegeException("no user '" + DEFAULT_USER + "' to run as after set-up: give --user NAME "
                            + "(a system user, e.g. made with `useradd --system --no-create-home pinhole`), or --user root",
                            "getpwnam", 0, false);
        }
        if (account.get().uid() == 0) {
            throw PrivilegeException.usage("--user " + name + " has uid 0, which is root: give an unprivileged user, or "
                    + "--user root to stay root knowingly");
        }
        return new PrivilegePlan(Action.SWITCH_USER, account.get(), keep, why);
    }

    /** {@code CAP_NET_RAW} for a set's bits, or {@code none}. */
    public static String capabilityNames(long set) {
        return Capability.names(set);
    }

    /**
     * True when {@code SO_BINDTODEVICE} on a socket not yet bound to a device needs no
     * capability: Linux 5.7 and later. An unreadable release counts as older.
     */
    static boolean bindToDeviceUnprivileged(String kernelRelease) {
        Matcher m = RELEASE.matcher(kernelRelease == null ? "" : kernelRelease);
        if (!m.matches()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 5 || major == 5 && minor >= 7;
    }
}
