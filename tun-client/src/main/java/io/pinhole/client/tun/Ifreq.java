package io.pinhole.client.tun;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A {@code struct ifreq} ({@code <net/if.h>}) laid out by hand in a byte array. This is the only
 * place that knows the layout.
 *
 * <pre>
 * struct ifreq on 64-bit Linux: 40 bytes
 *
 *  0               16                                              40
 *  +---------------+-----------------------------------------------+
 *  | ifr_name[16]  | union ifr_ifru (24 bytes = sizeof(struct ifmap))|
 *  +---------------+-----------------------------------------------+
 *   NUL-terminated
 *
 * union members used here, all at offset 16 (host byte order unless noted):
 *   ifr_flags     short   16..17     TUNSETIFF, SIOCGIFFLAGS, SIOCSIFFLAGS
 *   ifr_mtu       int     16..19     SIOCSIFMTU, SIOCGIFMTU
 *   ifr_ifindex   int     16..19     SIOCGIFINDEX
 *   ifr_addr, ifr_dstaddr, ifr_netmask: struct sockaddr_in, 16..31
 *       16..17  sin_family  unsigned short, host order   (AF_INET = 2)
 *       18..19  sin_port    network order                (0)
 *       20..23  sin_addr    network order                (a.b.c.d -> bytes a b c d)
 *       24..31  sin_zero    zero
 *   32..39  unused tail of the union (struct ifmap is 8+8+2+1+1+1 -> 24 bytes on LP64)
 * </pre>
 *
 * <p>On 32-bit ABIs the struct is 32 bytes; passing 40 bytes is harmless there because the kernel
 * reads and writes only {@code sizeof(struct ifreq)}. Not thread-safe; use one instance per call.
 */
final class Ifreq {
    static final int SIZE = 40;
    static final int NAME_OFFSET = 0;
    static final int UNION_OFFSET = If.IFNAMSIZ;
    static final int SIN_FAMILY_OFFSET = UNION_OFFSET;
    static final int SIN_PORT_OFFSET = UNION_OFFSET + 2;
    static final int SIN_ADDR_OFFSET = UNION_OFFSET + 4;
    static final int SOCKADDR_IN_SIZE = 16;

    private final byte[] bytes = new byte[SIZE];
    private final ByteBuffer view = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());

    private Ifreq() {
    }

    /** An all-zero request with {@code ifr_name} set to {@code nameBytes} (from {@link InterfaceName#encode}). */
    static Ifreq withName(byte[] nameBytes) {
        if (nameBytes.length > If.IFNAMSIZ - 1) {
            throw new IllegalArgumentException("interface name is " + nameBytes.length
                    + " bytes, at most " + (If.IFNAMSIZ - 1) + " fit in ifr_name");
        }
        Ifreq r = new Ifreq();
        System.arraycopy(nameBytes, 0, r.bytes, NAME_OFFSET, nameBytes.length);
        return r;
    }

    /** The backing array, exactly {@link #SIZE} bytes; copied to and from native memory around an ioctl. */
    byte[] array() {
        return bytes;
    }

    /** A copy of the 40 bytes, for tests and debugging. */
    byte[] toByteArray() {
        return bytes.clone();
    }

    /** {@code ifr_name} up to the first NUL, decoded as UTF-8 (the kernel writes the real name back here). */
    String name() {
        int len = 0;
        while (len < If.IFNAMSIZ && bytes[NAME_OFFSET + len] != 0) {
            len++;
        }
        return new String(bytes, NAME_OFFSET, len, StandardCharsets.UTF_8);
    }

    /** Sets {@code ifr_flags} (a C short; only the low 16 bits of {@code flags} are kept). */
    Ifreq flags(int flags) {
        clearUnion();
        view.putShort(UNION_OFFSET, (short) flags);
        return this;
    }

    /** Reads {@code ifr_flags} as an unsigned 16-bit value. */
    int flags() {
        return view.getShort(UNION_OFFSET) & 0xffff;
    }

    /** Sets the int member ({@code ifr_mtu} / {@code ifr_ifindex}). */
    Ifreq intValue(int value) {
        clearUnion();
        view.putInt(UNION_OFFSET, value);
        return this;
    }

    /** Reads the int member ({@code ifr_mtu} / {@code ifr_ifindex}). */
    int intValue() {
        return view.getInt(UNION_OFFSET);
    }

    /** Sets {@code ifr_addr} (or dstaddr/netmask, same place) to an AF_INET {@code sockaddr_in}, port 0. */
    Ifreq address(Inet4Address address) {
        clearUnion();
        view.putShort(SIN_FAMILY_OFFSET, (short) SysSocket.AF_INET);
        view.put(SIN_PORT_OFFSET, (byte) 0).put(SIN_PORT_OFFSET + 1, (byte) 0);
        System.arraycopy(address.getAddress(), 0, bytes, SIN_ADDR_OFFSET, 4);
        return this;
    }

    /** Reads {@code ifr_addr} as a {@code sockaddr_in}; fails if the family is not AF_INET. */
    Inet4Address address() {
        int family = view.getShort(SIN_FAMILY_OFFSET) & 0xffff;
        if (family != SysSocket.AF_INET) {
            throw new IllegalStateException("ifr_addr family is " + family + ", not AF_INET");
        }
        try {
            return (Inet4Address) InetAddress.getByAddress(
                    Arrays.copyOfRange(bytes, SIN_ADDR_OFFSET, SIN_ADDR_OFFSET + 4));
        } catch (UnknownHostException e) {
            throw new AssertionError("4-byte address rejected", e);
        }
    }

    private void clearUnion() {
        Arrays.fill(bytes, UNION_OFFSET, SIZE, (byte) 0);
    }
}
