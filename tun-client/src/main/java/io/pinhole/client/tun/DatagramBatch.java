package io.pinhole.client.tun;

import com.sun.jna.Memory;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * DatagramBatch: room for up to {@link #capacity()} datagrams in native memory, laid out for one
 * {@code recvmmsg} or {@code sendmmsg} call of {@link UdpBatchSocket}, allocated once and reused
 * for every batch (nothing is allocated per datagram on the steady path).
 *
 * <p>One {@link Memory} block holds, for message {@code i}:
 * <pre>
 *   struct mmsghdr (64 bytes, LP64)          struct iovec (16)     sockaddr_in6 (28, slot 32)
 *   0  void *msg_name ---------------------------------------------> family port flow addr scope
 *   8  socklen_t msg_namelen
 *   16 struct iovec *msg_iov ---------------> 0 void *iov_base --> the datagram's bytes (bufferSize)
 *   24 size_t msg_iovlen = 1                  8 size_t iov_len
 *   32 void *msg_control ------------------> cmsghdr (24): 0 size_t len, 8 int level, 12 int type,
 *   40 size_t msg_controllen                          16 u16 UDP_SEGMENT (send) / int UDP_GRO (receive)
 *   48 int msg_flags
 *   56 unsigned msg_len (bytes received or sent)
 * </pre>
 * For sending, {@link #set} one message after the other and {@link UdpBatchSocket#send} them; a
 * message with a segment size is cut by the kernel into datagrams of that many bytes (UDP GSO).
 * After {@link UdpBatchSocket#receive}, {@link #count()} messages hold {@link #length} bytes each
 * from {@link #address}, and {@link #segmentSize} tells a message that UDP GRO coalesced from
 * several datagrams of that size (0 for one datagram).
 *
 * <p>{@link #address} decodes the sender once per distinct sender in a row: a message from the
 * same address as the one before it returns the same {@link InetSocketAddress} object, so a
 * stream from one peer allocates nothing. {@link #set} re-encodes a destination only when it is
 * not the same object as the slot's last one.
 *
 * <p>Thread-safety: none; a batch belongs to one thread at a time (one for receiving, another for
 * sending). Error contract: {@link IndexOutOfBoundsException} for an index outside the batch,
 * {@link IllegalArgumentException} for a length or segment size that does not fit.
 */
public final class DatagramBatch {
    static final int MMSGHDR_SIZE = 64;
    static final int IOVEC_SIZE = 16;
    static final int NAME_SLOT = 32;
    static final int SOCKADDR_IN_SIZE = 16;
    static final int SOCKADDR_IN6_SIZE = 28;
    /** {@code CMSG_SPACE(sizeof(int))} on LP64: a 16-byte header and the data, aligned to 8. */
    static final int CONTROL_SLOT = 24;
    private static final int CMSG_HEADER = 16;
    private static final int MSG_NAME = 0;
    private static final int MSG_NAMELEN = 8;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_CONTROL = 32;
    private static final int MSG_CONTROLLEN = 40;
    private static final int MSG_FLAGS = 48;
    private static final int MSG_LEN = 56;
    /** The most datagrams {@link #queue} joins into one message (the kernel allows 64 per GSO send on older kernels). */
    public static final int MAX_SEGMENTS = 64;
    /** The largest UDP payload (IPv4: 65,535 - 20 - 8). */
    public static final int MAX_DATAGRAM = 65_507;

    private final int capacity;
    private final int bufferSize;
    private final Memory memory;
    private final long iovecs;
    private final long names;
    private final long controls;
    private final long data;
    private final long base;
    private final com.sun.jna.Pointer[] headers;
    private final ByteBuffer[] buffers;
    private final InetSocketAddress[] destinations;
    /** For {@link #queue}: per message, how many datagrams it joins, their length, whether a shorter one ended it. */
    private final int[] segments;
    private final int[] segmentLength;
    private final boolean[] ended;
    private int count;
    /** The sender decoded last, with its raw sockaddr (family+port+first bytes, the rest, scope): the cache of {@link #address}. */
    private InetSocketAddress lastSender;
    private long lastRaw0;
    private long lastRaw1;
    private long lastRaw2;
    private int lastRaw3;

    /**
     * @param capacity how many datagrams one call may carry, 1-1024
     * @param bufferSize bytes per datagram, 1-{@value #MAX_DATAGRAM} (64 KB lets UDP GRO coalesce
     *     a full batch of segments into one message)
     */
    public DatagramBatch(int capacity, int bufferSize) {
        if (capacity < 1 || capacity > 1024) {
            throw new IllegalArgumentException("capacity " + capacity + " is not 1-1024");
        }
        if (bufferSize < 1 || bufferSize > MAX_DATAGRAM) {
            throw new IllegalArgumentException("bufferSize " + bufferSize + " is not 1-" + MAX_DATAGRAM);
        }
        this.capacity = capacity;
        this.bufferSize = bufferSize;
        iovecs = (long) capacity * MMSGHDR_SIZE;
        names = iovecs + (long) capacity * IOVEC_SIZE;
        controls = names + (long) capacity * NAME_SLOT;
        data = controls + (long) capacity * CONTROL_SLOT;
        memory = new Memory(data + (long) capacity * bufferSize);
        // only the headers, addresses and control slots need zeros: the datagram area is written
        // before it is read, and left alone its pages are not resident until used (64 slots of 64 KB)
        memory.clear(data);
        base = com.sun.jna.Pointer.nativeValue(memory);
        headers = new com.sun.jna.Pointer[capacity];
        buffers = new ByteBuffer[capacity];
        destinations = new InetSocketAddress[capacity];
        segments = new int[capacity];
        segmentLength = new int[capacity];
        ended = new boolean[capacity];
        for (int i = 0; i < capacity; i++) {
            long header = (long) i * MMSGHDR_SIZE;
            long iovec = iovecs + (long) i * IOVEC_SIZE;
            headers[i] = memory.share(header);
            memory.setLong(header + MSG_NAME, base + names + (long) i * NAME_SLOT);
            memory.setLong(header + MSG_IOV, base + iovec);
            memory.setLong(header + MSG_IOVLEN, 1);
            memory.setLong(iovec, base + data + (long) i * bufferSize);
            memory.setLong(iovec + 8, bufferSize);
            buffers[i] = memory.getByteBuffer(data + (long) i * bufferSize, bufferSize).order(ByteOrder.BIG_ENDIAN);
        }
    }

    /** How many datagrams one call may carry. */
    public int capacity() {
        return capacity;
    }

    /** Bytes per datagram. */
    public int bufferSize() {
        return bufferSize;
    }

    /** How many messages the batch holds: received by the last receive, or set for the next send. */
    public int count() {
        return count;
    }

    /** Empties the batch for {@link #set}. */
    public void clear() {
        count = 0;
    }

    /**
     * The bytes of message {@code i}: a direct buffer over its slot, position 0 and limit
     * {@link #bufferSize()} (the same object every time; the caller sets position and limit as it
     * needs).
     */
    public ByteBuffer buffer(int i) {
        Objects.checkIndex(i, capacity);
        return buffers[i].clear();
    }

    /** The length of message {@code i}: bytes received (for a coalesced message, all its segments), or to send. */
    public int length(int i) {
        Objects.checkIndex(i, count);
        return memory.getInt((long) i * MMSGHDR_SIZE + MSG_LEN);
    }

    /** True when message {@code i}, queued for sending, carries several datagrams (UDP GSO). */
    boolean segmented(int i) {
        return memory.getLong((long) i * MMSGHDR_SIZE + MSG_CONTROLLEN) != 0 && memory.getInt(controls
                + (long) i * CONTROL_SLOT + 12) == Udp.UDP_SEGMENT;
    }

    /** True when message {@code i} was longer than {@link #bufferSize()}: its tail was cut off. */
    public boolean truncated(int i) {
        Objects.checkIndex(i, count);
        return (memory.getInt((long) i * MMSGHDR_SIZE + MSG_FLAGS) & SysSocket.MSG_TRUNC) != 0;
    }

    /**
     * The segment size of received message {@code i} when UDP GRO coalesced it from several
     * datagrams (each that long but the last), else 0.
     */
    public int segmentSize(int i) {
        Objects.checkIndex(i, count);
        long header = (long) i * MMSGHDR_SIZE;
        if (memory.getLong(header + MSG_CONTROLLEN) < CMSG_HEADER + 4) {
            return 0;
        }
        long control = controls + (long) i * CONTROL_SLOT;
        if (memory.getInt(control + 8) != Udp.SOL_UDP || memory.getInt(control + 12) != Udp.UDP_GRO) {
            return 0;
        }
        return memory.getInt(control + CMSG_HEADER);
    }

    /**
     * The sender of received message {@code i}; the same object as for the message before when
     * it came from the same address.
     */
    public InetSocketAddress address(int i) {
        Objects.checkIndex(i, count);
        long name = names + (long) i * NAME_SLOT;
        long raw0 = memory.getLong(name);
        long raw1 = memory.getLong(name + 8);
        long raw2 = memory.getLong(name + 16);
        int raw3 = memory.getInt(name + 24);
        short family = memory.getShort(name);
        if (family == SysSocket.AF_INET) {
            raw1 = 0; // sin_zero
            raw2 = 0;
            raw3 = 0;
        }
        if (lastSender != null && raw0 == lastRaw0 && raw1 == lastRaw1 && raw2 == lastRaw2 && raw3 == lastRaw3) {
            return lastSender;
        }
        lastSender = decode(name, family);
        lastRaw0 = raw0;
        lastRaw1 = raw1;
        lastRaw2 = raw2;
        lastRaw3 = raw3;
        return lastSender;
    }

    private InetSocketAddress decode(long name, short family) {
        int port = Short.toUnsignedInt(Short.reverseBytes(memory.getShort(name + 2)));
        try {
            if (family == SysSocket.AF_INET) {
                return new InetSocketAddress(InetAddress.getByAddress(memory.getByteArray(name + 4, 4)), port);
            }
            int scope = memory.getInt(name + 24);
            byte[] address = memory.getByteArray(name + 8, 16);
            InetAddress ip = scope == 0 ? InetAddress.getByAddress(address)
                    : Inet6Address.getByAddress(null, address, scope);
            return new InetSocketAddress(ip, port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("the kernel gave a sockaddr of family " + family, e);
        }
    }

    /**
     * Puts message {@code count()} into the batch for sending: {@code length} bytes of its
     * {@link #buffer} to {@code to}, cut into datagrams of {@code segmentSize} bytes by the kernel
     * when it is above 0 (and below {@code length}).
     *
     * @return the message's index
     * @throws IllegalStateException if the batch is full
     */
    public int add(InetSocketAddress to, int length, int segmentSize) {
        if (count == capacity) {
            throw new IllegalStateException("the batch is full (" + capacity + " messages)");
        }
        set(count, to, length, segmentSize);
        return count++;
    }

    /**
     * Queues a copy of {@code datagram} (position to limit; the position is left as it was) for
     * {@code to}. With {@code gso}, a datagram for the same destination object as the last
     * message, as long as that message's segments, joins it as one more segment (the kernel cuts
     * it apart again, UDP GSO), until the message would pass {@link #bufferSize()} or
     * {@value #MAX_SEGMENTS} segments, or a shorter datagram ended it.
     *
     * @return false, with nothing queued, when the batch is full (send it, {@link #clear}, queue again)
     * @throws IllegalArgumentException for a datagram longer than {@link #bufferSize()}
     */
    public boolean queue(InetSocketAddress to, ByteBuffer datagram, boolean gso) {
        int length = datagram.remaining();
        if (length > bufferSize) {
            throw new IllegalArgumentException("a " + length + "-byte datagram does not fit " + bufferSize + "-byte slots");
        }
        if (gso && count > 0 && destinations[count - 1] == to) {
            int last = count - 1;
            long header = (long) last * MMSGHDR_SIZE;
            int total = memory.getInt(header + MSG_LEN);
            int segment = segments[last] == 1 ? total : segmentLength[last];
            if (length <= segment && !ended[last] && total + length <= bufferSize && segments[last] < MAX_SEGMENTS) {
                copy(datagram, data + (long) last * bufferSize + total);
                segmentLength[last] = segment;
                segments[last]++;
                ended[last] = length < segment;
                set(last, to, total + length, segment);
                return true;
            }
        }
        if (count == capacity) {
            return false;
        }
        copy(datagram, data + (long) count * bufferSize);
        segments[count] = 1;
        segmentLength[count] = length;
        ended[count] = false;
        set(count, to, length, 0);
        count++;
        return true;
    }

    private void copy(ByteBuffer from, long at) {
        ByteBuffer window = buffers[(int) ((at - data) / bufferSize)];
        int offset = (int) ((at - data) % bufferSize);
        int position = from.position();
        window.clear().position(offset);
        window.put(from);
        from.position(position);
    }

    private void set(int i, InetSocketAddress to, int length, int segmentSize) {
        if (length < 0 || length > bufferSize) {
            throw new IllegalArgumentException("length " + length + " is not 0-" + bufferSize);
        }
        if (segmentSize < 0 || segmentSize > 65_535) {
            throw new IllegalArgumentException("segment size " + segmentSize + " is not 0-65535");
        }
        long header = (long) i * MMSGHDR_SIZE;
        if (destinations[i] != to) {
            memory.setInt(header + MSG_NAMELEN, encode(memory, names + (long) i * NAME_SLOT, to));
            destinations[i] = to;
        }
        memory.setLong(iovecs + (long) i * IOVEC_SIZE + 8, length);
        memory.setInt(header + MSG_FLAGS, 0);
        memory.setInt(header + MSG_LEN, length);
        if (segmentSize > 0 && segmentSize < length) {
            long control = controls + (long) i * CONTROL_SLOT;
            memory.setLong(control, CMSG_HEADER + 2); // CMSG_LEN(sizeof(uint16_t))
            memory.setInt(control + 8, Udp.SOL_UDP);
            memory.setInt(control + 12, Udp.UDP_SEGMENT);
            memory.setShort(control + CMSG_HEADER, (short) segmentSize);
            memory.setLong(header + MSG_CONTROL, base + control);
            memory.setLong(header + MSG_CONTROLLEN, CONTROL_SLOT);
        } else {
            memory.setLong(header + MSG_CONTROL, 0);
            memory.setLong(header + MSG_CONTROLLEN, 0);
        }
    }

    /**
     * Writes {@code to} as a sockaddr_in or sockaddr_in6 into {@code memory} at {@code at}
     * ({@value #NAME_SLOT} bytes, zeroed first); returns its length.
     */
    static int encode(com.sun.jna.Pointer memory, long at, InetSocketAddress to) {
        InetAddress ip = to.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address " + to);
        }
        memory.setMemory(at, NAME_SLOT, (byte) 0);
        memory.setShort(at + 2, Short.reverseBytes((short) to.getPort()));
        if (ip instanceof Inet4Address) {
            memory.setShort(at, (short) SysSocket.AF_INET);
            memory.write(at + 4, ip.getAddress(), 0, 4);
            return SOCKADDR_IN_SIZE;
        }
        memory.setShort(at, (short) SysSocket.AF_INET6);
        memory.write(at + 8, ip.getAddress(), 0, 16);
        memory.setInt(at + 24, ((Inet6Address) ip).getScopeId());
        return SOCKADDR_IN6_SIZE;
    }

    /** Readies every slot for a receive of up to {@link #capacity()} messages (names, buffers, control room). */
    void prepareReceive(boolean control) {
        for (int i = 0; i < capacity; i++) {
            long header = (long) i * MMSGHDR_SIZE;
            memory.setInt(header + MSG_NAMELEN, NAME_SLOT);
            memory.setLong(iovecs + (long) i * IOVEC_SIZE + 8, bufferSize);
            memory.setInt(header + MSG_FLAGS, 0);
            memory.setInt(header + MSG_LEN, 0);
            if (control) {
                memory.setLong(header + MSG_CONTROL, base + controls + (long) i * CONTROL_SLOT);
                memory.setLong(header + MSG_CONTROLLEN, CONTROL_SLOT);
            } else {
                memory.setLong(header + MSG_CONTROL, 0);
                memory.setLong(header + MSG_CONTROLLEN, 0);
            }
            destinations[i] = null; // the name slot now holds a sender
        }
    }

    /** Records that the kernel filled {@code n} messages. */
    void received(int n) {
        count = n;
    }

    /** The native memory of message {@code i}'s header (for the call). */
    com.sun.jna.Pointer header(int i) {
        return headers[i];
    }
}
