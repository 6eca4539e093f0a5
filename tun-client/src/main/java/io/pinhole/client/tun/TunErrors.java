package io.pinhole.client.tun;

/**
 * Maps a failed system call to the right {@link TunException} subtype and builds its message:
 * <pre>
 *   &lt;action&gt; &lt;device&gt;: &lt;operation&gt;[ (&lt;detail&gt;)] failed: &lt;ERRNO&gt; (&lt;strerror&gt;)[: &lt;hint&gt;]
 * </pre>
 * Pure functions: the {@code strerror} text is passed in, so the mapping is testable without
 * native code.
 */
final class TunErrors {
    static final String PERMISSION_HINT = "pinhole must run as root or with CAP_NET_ADMIN";
    static final String UNAVAILABLE_HINT = "the TUN driver is not available: load the tun module"
            + " (modprobe tun) or create the device node (mkdir -p /dev/net && mknod /dev/net/tun c 10 200)";
    static final String BUSY_HINT = "a TUN device with that name is already in use by another process"
            + " (or another open TunDevice); choose another name or stop the other user";
    static final String EXISTS_HINT = "an interface with that name already exists and is not a TUN"
            + " device this process can attach to (or it is a TUN/TAP device with different flags);"
            + " choose another name";
    static final String REJECTED_VALUE_HINT = "the kernel rejected the value";
    static final String DETACHED_HINT = "the device was detached from this file descriptor"
            + " (deleted with 'ip link del'?)";
    static final String BAD_PACKET_HINT = "the kernel rejected the packet (is it a well-formed IPv4/IPv6 packet?)";
    static final String NO_DEVICE_HINT = "the device no longer exists";
    static final String ROUTE_EXISTS_HINT = "it exists already (a route: remove it, or leave the network out of"
            + " --allowed-ips)";

    /** What was being done; gives the message prefix and selects the exception type. */
    enum Phase {
        CREATE("cannot create TUN device "),
        CONFIGURE("cannot configure TUN device "),
        READ("cannot read from TUN device "),
        WRITE("cannot write to TUN device "),
        CLOSE("cannot close TUN device ");

        final String prefix;

        Phase(String prefix) {
            this.prefix = prefix;
        }
    }

    private TunErrors() {
    }

    /**
     * Maps {@code errno} from {@code operation} during {@code phase} to an exception:
     * EPERM/EACCES to {@link TunPermissionException} (any phase); during CREATE, ENOENT/ENODEV/ENXIO
     * to {@link TunUnavailableException} and EBUSY to {@link TunNameTakenException}; during
     * CONFIGURE everything else to {@link TunConfigException}; otherwise a plain {@link TunException}.
     *
     * @param detail the argument of the operation for the message (e.g. {@code "mtu 70000"}), or null
     */
    static TunException forErrno(Phase phase, String device, String operation, String detail,
                                 int errno, String strerror, Throwable cause) {
        switch (errno) {
            case Errno.EPERM:
            case Errno.EACCES:
                return new TunPermissionException(
                        message(phase, device, operation, detail, errno, strerror, PERMISSION_HINT),
                        device, operation, errno, cause);
            default:
                break;
        }
        switch (phase) {
            case CREATE:
                switch (errno) {
                    case Errno.ENOENT:
                    case Errno.ENODEV:
                    case Errno.ENXIO:
                        return new TunUnavailableException(
                                message(phase, device, operation, detail, errno, strerror, UNAVAILABLE_HINT),
                                device, operation, errno, cause);
                    case Errno.EBUSY:
                        return new TunNameTakenException(
                                message(phase, device, operation, detail, errno, strerror, BUSY_HINT),
                                device, operation, errno, cause);
                    default:
                        return new TunException(
                                message(phase, device, operation, detail, errno, strerror, null),
                                device, operation, errno, cause);
                }
            case CONFIGURE: {
                String hint = errno == Errno.EINVAL ? REJECTED_VALUE_HINT
                        : errno == Errno.ENODEV ? NO_DEVICE_HINT
                        : errno == Errno.EEXIST ? ROUTE_EXISTS_HINT : null;
                return new TunConfigException(
                        message(phase, device, operation, detail, errno, strerror, hint),
                        device, operation, errno, cause);
            }
            default: {
                String hint = errno == Errno.EBADFD ? DETACHED_HINT
                        : phase == Phase.WRITE && errno == Errno.EINVAL ? BAD_PACKET_HINT : null;
                return new TunException(
                        message(phase, device, operation, detail, errno, strerror, hint),
                        device, operation, errno, cause);
            }
        }
    }

    /**
     * The error for TUNSETIFF failing with {@code errno} (EINVAL in practice) while an interface
     * named {@code device} already exists: the name is taken by something that is not an
     * attachable TUN device.
     */
    static TunNameTakenException nameTakenByOtherInterface(String device, String operation, int errno,
                                                          String strerror, Throwable cause) {
        return new TunNameTakenException(
                message(Phase.CREATE, device, operation, null, errno, strerror, EXISTS_HINT),
                device, operation, errno, cause);
    }

    /** The error for using a closed device. */
    static TunClosedException closed(String device, String operation) {
        return new TunClosedException("TUN device " + device + " is closed: cannot " + operation,
                device, operation, 0, null);
    }

    static String message(Phase phase, String device, String operation, String detail,
                          int errno, String strerror, String hint) {
        StringBuilder sb = new StringBuilder(160)
                .append(phase.prefix).append(device).append(": ")
                .append(operation);
        if (detail != null && !detail.isEmpty()) {
            sb.append(" (").append(detail).append(')');
        }
        sb.append(" failed: ").append(Errno.name(errno)).append(" (").append(strerror).append(')');
        if (hint != null) {
            sb.append(": ").append(hint);
        }
        return sb.toString();
    }
}
