package io.pinhole.offload;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * InternetChecksum: the RFC 1071 ones'-complement sum, as IPv4, TCP and UDP use it. Sums are
 * carried unfolded in a {@code long} (each step adds at most 2^32, so billions of steps cannot
 * overflow) and folded to 16 bits only at the end; 8 bytes are read at a time. Stateless; no
 * allocation.
 */
final class InternetChecksum {
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private InternetChecksum() {
    }

    /** Adds {@code len} bytes of {@code b} from {@code off} (big-endian 16-bit words; an odd last byte is padded) to {@code sum}. */
    static long add(long sum, byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        for (; i + 8 <= end; i += 8) {
            long w = (long) LONG_BE.get(b, i);
            sum += (w >>> 32) + (w & 0xFFFF_FFFFL);
        }
        for (; i + 2 <= end; i += 2) {
            sum += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
        }
        if (i < end) {
            sum += (b[i] & 0xFF) << 8;
        }
        return sum;
    }

    /** The pseudo-header sum (addresses, protocol, transport length) of the IP packet at {@code ipOff}, unfolded. */
    static long pseudoHeader(byte[] b, int ipOff, boolean v6, int protocol, int transportLen) {
        int addrOff = ipOff + (v6 ? Ip.V6_SRC : Ip.V4_SRC);
        return add(protocol + (long) transportLen, b, addrOff, v6 ? 32 : 8);
    }

    /** Folds an unfolded sum to 16 bits (not complemented). */
    static int fold(long sum) {
        sum = (sum & 0xFFFF_FFFFL) + (sum >>> 32);
        sum = (sum & 0xFFFF_FFFFL) + (sum >>> 32);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) sum;
    }

    /** The checksum field value for a sum: its folded complement. */
    static int finish(long sum) {
        return ~fold(sum) & 0xFFFF;
    }
}
