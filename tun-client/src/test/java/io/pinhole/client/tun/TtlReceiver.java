package io.pinhole.client.tun;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;

/**
 * TtlReceiver: a UDP socket on a loopback address that reports, for each datagram, the IP TTL
 * (IPv6: hop limit) it arrived with, through {@code IP_RECVTTL} / {@code IPV6_RECVHOPLIMIT} and
 * {@code recvmsg(2)}: what the sender's kernel really put on the wire. Test code; one thread.
 * Also the tests' door to package-private {@link SocketTtl} pieces (a descriptor that is no socket).
 */
public final class TtlReceiver implements AutoCloseable {
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSGHDR_SIZE = 56; // struct msghdr on 64-bit Linux
    private static final int CMSG_HEADER = 16; // struct cmsghdr: size_t len, int level, int type

    /** One received datagram: its payload as text and the TTL it arrived with (-1 if none was reported). */
    public record Datagram(String payload, int ttl) {
    }

    /** recvmsg(2), which the main code does not need. */
    private static final class Recvmsg {
        static {
            Native.register(Recvmsg.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        static native NativeLong recvmsg(int fd, Pointer msg, int flags) throws LastErrorException;
    }

    private final DatagramChannel channel;
    private final int fd;

    private TtlReceiver(DatagramChannel channel, int fd) {
        this.channel = channel;
        this.fd = fd;
    }

    /** A receiver bound to {@code address} (port 0: any free one). */
    public static TtlReceiver open(InetAddress address) throws IOException {
        boolean v6 = address instanceof Inet6Address;
        DatagramChannel channel = bound(address);
        int fd = SocketTtl.descriptor(channel);
        LibC.setsockopt(fd, v6 ? In.IPPROTO_IPV6 : In.IPPROTO_IP, v6 ? In.IPV6_RECVHOPLIMIT : In.IP_RECVTTL,
                new int[] {1}, Integer.BYTES);
        return new TtlReceiver(channel, fd);
    }

    /** A channel of {@code address}'s family bound to it (port 0: any free one). */
    public static DatagramChannel bound(InetAddress address) throws IOException {
        DatagramChannel channel = DatagramChannel.open(address instanceof Inet6Address ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET);
        try {
            return channel.bind(new InetSocketAddress(address, 0));
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    /** The next datagram within {@code timeoutMillis}, or null if none came. */
    public Datagram receive(int timeoutMillis) {
        Memory pollFd = new Memory(Poll.POLLFD_SIZE);
        pollFd.clear();
        pollFd.setInt(Poll.FD_OFFSET, fd);
        pollFd.setShort(Poll.EVENTS_OFFSET, Poll.POLLIN);
        if (LibC.poll(pollFd, new NativeLong(1), timeoutMillis) == 0) {
            return null;
        }
        Memory data = new Memory(2048);
        Memory control = new Memory(256);
        Memory iov = new Memory(16);
        iov.setPointer(0, data);
        iov.setLong(8, data.size());
        Memory msg = new Memory(MSGHDR_SIZE);
        msg.clear();
        msg.setPointer(16, iov);
        msg.setLong(24, 1);
        msg.setPointer(32, control);
        msg.setLong(40, control.size());
        int length = (int) Recvmsg.recvmsg(fd, msg, MSG_DONTWAIT).longValue();
        long controlLength = msg.getLong(40);
        int ttl = -1;
        for (long offset = 0; offset + CMSG_HEADER <= controlLength; ) {
            long cmsgLength = control.getLong(offset);
            int level = control.getInt(offset + 8);
            int type = control.getInt(offset + 12);
            if (level == In.IPPROTO_IP && type == In.IP_TTL || level == In.IPPROTO_IPV6 && type == In.IPV6_HOPLIMIT) {
                ttl = control.getInt(offset + CMSG_HEADER);
            }
            if (cmsgLength < CMSG_HEADER) {
                break;
            }
            offset += (cmsgLength + 7) & ~7L;
        }
        return new Datagram(new String(data.getByteArray(0, length), StandardCharsets.UTF_8), ttl);
    }

    /** Sets the TTL (IPv6: unicast hop limit) of {@code channel} directly, as another program would. */
    public static void presetTtl(DatagramChannel channel, boolean v6, int ttl) throws IOException {
        LibC.setsockopt(SocketTtl.descriptor(channel), v6 ? In.IPPROTO_IPV6 : In.IPPROTO_IP,
                v6 ? In.IPV6_UNICAST_HOPS : In.IP_TTL, new int[] {ttl}, Integer.BYTES);
    }

    /** The TTL (IPv6: unicast hop limit) {@code getsockopt} reports for {@code channel}. */
    public static int currentTtl(DatagramChannel channel, boolean v6) throws IOException {
        int[] value = new int[1];
        LibC.getsockopt(SocketTtl.descriptor(channel), v6 ? In.IPPROTO_IPV6 : In.IPPROTO_IP,
                v6 ? In.IPV6_UNICAST_HOPS : In.IP_TTL, value, new int[] {Integer.BYTES});
        return value[0];
    }

    /** A {@link SocketTtl} for {@code channel} that uses descriptor {@code fd} instead of the channel's. */
    public static SocketTtl socketTtlOnDescriptor(DatagramChannel channel, int fd) {
        return SocketTtl.of(channel, fd);
    }

    /** Opens {@code /dev/null}: a descriptor that is no socket. Close it with {@link #closeDescriptor}. */
    public static int openNonSocket() {
        return LibC.open("/dev/null", Fcntl.O_RDONLY | Fcntl.O_CLOEXEC);
    }

    public static void closeDescriptor(int fd) {
        LibC.close(fd);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
