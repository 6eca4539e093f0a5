package io.pinhole.client.tun;

/**
 * Constants from {@code <linux/if_tun.h>}: TUN/TAP ioctl requests and {@code TUNSETIFF} flags.
 *
 * <p>Request numbers are the {@code _IOW('T', nr, int)} encodings of the generic ioctl layout
 * (x86, x86-64, arm, arm64, riscv); architectures with a different {@code _IOC} encoding
 * (mips, powerpc, sparc, alpha) are not supported.
 */
final class IfTun {
    private IfTun() {
    }

    /** {@code _IOW('T', 202, int)}: attach this fd to (and if needed create) a TUN/TAP device. */
    static final int TUNSETIFF = 0x400454ca;
    /** {@code _IOW('T', 203, int)}: make the device persistent (survive closing the fd). Unused. */
    static final int TUNSETPERSIST = 0x400454cb;
    /** {@code _IOR('T', 210, unsigned int)}: read back the name and flags of the attached device. */
    static final int TUNGETIFF = 0x800454d2;

    /** {@code _IOW('T', 208, unsigned int)}: the offloads the reader handles (TUN_F_* bits, passed by value). */
    static final int TUNSETOFFLOAD = 0x400454d0;
    /** {@code _IOW('T', 216, int)}: the length of the virtio header before each packet (pointer to int). */
    static final int TUNSETVNETHDRSZ = 0x400454d8;

    /** Layer-3 device: reads and writes carry raw IP packets. */
    static final short IFF_TUN = 0x0001;
    /** Layer-2 device (Ethernet frames). Unused by pinhole. */
    static final short IFF_TAP = 0x0002;
    /** Do not prepend the 4-byte {@code struct tun_pi} packet information header. */
    static final short IFF_NO_PI = 0x1000;
    /** Every read and write carries a {@code struct virtio_net_hdr} before the packet (for offloads). */
    static final short IFF_VNET_HDR = 0x4000;
    /** Multi-queue device. Unused. */
    static final short IFF_MULTI_QUEUE = 0x0100;
    /** Reported by {@link #TUNGETIFF} for persistent devices. */
    static final short IFF_PERSIST = 0x0800;
    /** Fail with EBUSY if a device of that name exists at all. Unused (see TunDevice.open). */
    static final short IFF_TUN_EXCL = (short) 0x8000;

    /** TUNSETOFFLOAD: the reader completes partial checksums. */
    static final int TUN_F_CSUM = 0x01;
    /** TUNSETOFFLOAD: the reader takes TCP over IPv4 super-packets (TSO). */
    static final int TUN_F_TSO4 = 0x02;
    /** TUNSETOFFLOAD: the reader takes TCP over IPv6 super-packets. */
    static final int TUN_F_TSO6 = 0x04;
    /** TUNSETOFFLOAD: the reader takes UDP over IPv4 super-packets (USO, Linux 6.2+). */
    static final int TUN_F_USO4 = 0x20;
    /** TUNSETOFFLOAD: the reader takes UDP over IPv6 super-packets (USO, Linux 6.2+). */
    static final int TUN_F_USO6 = 0x40;

    /** The character device that hands out TUN/TAP file descriptors. */
    static final String CLONE_DEVICE = "/dev/net/tun";
}
