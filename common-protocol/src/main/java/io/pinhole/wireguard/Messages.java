package io.pinhole.wireguard;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Messages: byte layout of WireGuard's four message types (all integers little-endian), as
 * offsets into a datagram. Stateless.
 *
 * <pre>
 * Handshake initiation (type 1), 148 bytes
 *   0  type(1)=1 | reserved(3)=0
 *   4  sender index (4)
 *   8  unencrypted ephemeral (32)
 *  40  encrypted static (32 + 16)
 *  88  encrypted timestamp (12 + 16)
 * 116  mac1 (16)
 * 132  mac2 (16)
 *
 * Handshake response (type 2), 92 bytes
 *   0  type(1)=2 | reserved(3)=0
 *   4  sender index (4)
 *   8  receiver index (4)
 *  12  unencrypted ephemeral (32)
 *  44  encrypted nothing (0 + 16)
 *  60  mac1 (16)
 *  76  mac2 (16)
 *
 * Cookie reply (type 3), 64 bytes
 *   0  type(1)=3 | reserved(3)=0
 *   4  receiver index (4)
 *   8  nonce (24)
 *  32  encrypted cookie (16 + 16)
 *
 * Transport data (type 4), 32 + n bytes, n padded to a multiple of 16 up to the MTU (0 = keepalive)
 *   0  type(1)=4 | reserved(3)=0
 *   4  receiver index (4)
 *   8  counter (8)
 *  16  encrypted packet (n + 16)
 * </pre>
 */
public final class Messages {
    private Messages() {
    }

    public static final int TYPE_INITIATION = 1;
    public static final int TYPE_RESPONSE = 2;
    public static final int TYPE_COOKIE_REPLY = 3;
    public static final int TYPE_TRANSPORT = 4;

    public static final int INITIATION_LENGTH = 148;
    public static final int INITIATION_SENDER = 4;
    public static final int INITIATION_EPHEMERAL = 8;
    public static final int INITIATION_STATIC = 40;
    public static final int INITIATION_TIMESTAMP = 88;
    public static final int INITIATION_MAC1 = 116;
    public static final int INITIATION_MAC2 = 132;

    public static final int RESPONSE_LENGTH = 92;
    public static final int RESPONSE_SENDER = 4;
    public static final int RESPONSE_RECEIVER = 8;
    public static final int RESPONSE_EPHEMERAL = 12;
    public static final int RESPONSE_EMPTY = 44;
    public static final int RESPONSE_MAC1 = 60;
    public static final int RESPONSE_MAC2 = 76;

    public static final int COOKIE_REPLY_LENGTH = 64;
    public static final int COOKIE_RECEIVER = 4;
    public static final int COOKIE_NONCE = 8;
    public static final int COOKIE_ENCRYPTED = 32;

    public static final int TRANSPORT_HEADER_LENGTH = 16;
    public static final int TRANSPORT_RECEIVER = 4;
    public static final int TRANSPORT_COUNTER = 8;
    /** Smallest transport message: a keepalive (header and tag). */
    public static final int TRANSPORT_MIN_LENGTH = TRANSPORT_HEADER_LENGTH + 16;

    public static final int MAC_LENGTH = 16;

    /** The WireGuard type of {@code datagram}, or 0 when it is not a well-formed WireGuard message header/size. */
    public static int typeOf(ByteBuffer datagram) {
        int p = datagram.position();
        int n = datagram.remaining();
        if (n < 4) {
            return 0;
        }
        int type = datagram.get(p) & 0xff;
        if (datagram.get(p + 1) != 0 || datagram.get(p + 2) != 0 || datagram.get(p + 3) != 0) {
            return 0;
        }
        return switch (type) {
            case TYPE_INITIATION -> n == INITIATION_LENGTH ? type : 0;
            case TYPE_RESPONSE -> n == RESPONSE_LENGTH ? type : 0;
            case TYPE_COOKIE_REPLY -> n == COOKIE_REPLY_LENGTH ? type : 0;
            case TYPE_TRANSPORT -> n >= TRANSPORT_MIN_LENGTH ? type : 0; // padding stops at the MTU
            default -> 0;
        };
    }

    static int readIntLe(byte[] b, int off) {
        return ByteBuffer.wrap(b, off, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    static void writeIntLe(byte[] b, int off, int v) {
        ByteBuffer.wrap(b, off, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(v);
    }

    static long readLongLe(byte[] b, int off) {
        return ByteBuffer.wrap(b, off, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    static void writeLongLe(byte[] b, int off, long v) {
        ByteBuffer.wrap(b, off, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
    }
}
