package io.pinhole.client.tun;

import com.sun.jna.LastErrorException;
import java.nio.channels.DatagramChannel;

/**
 * SocketDevice binds a UDP socket to one network device ({@code SO_BINDTODEVICE}), which the
 * JDK cannot do: the kernel then sends the socket's datagrams only out of that device, whatever
 * routes point elsewhere (a route through pinhole's own TUN device included), and delivers to the
 * socket only what arrives on it. That is what keeps the tunnel from ever carrying itself.
 *
 * <p>The file descriptor comes from {@link SocketTtl#descriptor}, so this needs
 * {@value SocketTtl#ADD_OPENS} too. Stateless; thread-safe.
 *
 * <p>Error contract: {@link SocketOptionException} naming the socket, the call, the device and
 * the errno when the descriptor is out of reach or {@code setsockopt} fails (e.g. {@code ENODEV}
 * for a device that does not exist, {@code EPERM} without CAP_NET_RAW); nothing changed then.
 */
public final class SocketDevice {
    private SocketDevice() {
    }

    /**
     * Binds {@code channel} to {@code device}.
     *
     * @throws SocketOptionException if the descriptor is out of reach or the kernel refuses
     * @throws IllegalArgumentException if {@code device} is not a valid interface name
     */
    public static void bind(DatagramChannel channel, String device) throws SocketOptionException {
        byte[] encoded = InterfaceName.encode(device);
        byte[] name = java.util.Arrays.copyOf(encoded, encoded.length + 1); // NUL-terminated
        int fd = SocketTtl.descriptor(channel);
        try {
            LibC.setsockopt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_BINDTODEVICE, name, name.length);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            throw new SocketOptionException("cannot bind UDP socket (fd " + fd + ") to device " + device
                    + ": setsockopt(SOL_SOCKET, SO_BINDTODEVICE, \"" + device + "\") failed: " + Errno.name(errno)
                    + " (" + LibC.describe(errno) + ")", "setsockopt(SO_BINDTODEVICE)", errno, false, e);
        }
    }
}
