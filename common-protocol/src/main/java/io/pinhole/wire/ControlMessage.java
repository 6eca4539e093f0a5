package io.pinhole.wire;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.MalformedMessageException.Reason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * ControlMessage: pinhole's own messages (register, pair, punch, leave), each a record that
 * encodes itself and is decoded by {@link #decode(ByteBuffer)}. Byte layouts are drawn on each
 * record and in docs/wire-format.md; all multi-byte integers are big-endian.
 *
 * <p>Records are immutable and thread-safe. Decoding never trusts a length or count field beyond
 * the datagram: any inconsistency throws {@link MalformedMessageException}.
 */
public sealed interface ControlMessage {

    /** How many LAN candidates a peer may report. */
    int MAX_CANDIDATES = 8;

    /** Encodes this message into a new heap buffer, flipped for reading. */
    ByteBuffer encode();

    /** The message type. */
    MessageType type();

    /**
     * Decodes a pinhole control message (not PLAIN_DATA and not WireGuard types).
     *
     * @throws MalformedMessageException if it is not a well-formed control message
     */
    static ControlMessage decode(ByteBuffer datagram) throws MalformedMessageException {
        ByteBuffer in = datagram.duplicate();
        MessageType type = Header.peekType(in);
        ControlMessage message = switch (type) {
            case REGISTER -> Register.decode(in);
            case REGISTERED -> Registered.decode(in);
            case PEER_INFO -> PeerInfo.decode(in);
            case PUNCH -> Punch.decode(in);
            case LEAVE -> Leave.decode(in);
            default -> throw new MalformedMessageException(Reason.UNKNOWN_TYPE, type + " is not a control message");
        };
        if (in.hasRemaining()) {
            throw new MalformedMessageException(Reason.OVERSIZED,
                    type + " has " + in.remaining() + " bytes after its end");
        }
        return message;
    }

    /**
     * REGISTER, peer to rendezvous: "I am {@code self}, session {@code session}, and I want to
     * reach {@code wanted}; these are my LAN endpoints." Always padded to {@link #LENGTH} bytes,
     * so every reply the server sends is no larger than the request.
     *
     * <pre>
     * 0      4                36                 68        76    77
     * +------+----------------+------------------+---------+-----+------------------+---------+
     * | hdr  | self key (32)  | wanted key (32)  | session | n   | n endpoints      | zero    |
     * |      |                |                  | (8)     | (1) | (7 or 19 each)   | padding |
     * +------+----------------+------------------+---------+-----+------------------+---------+
     * </pre>
     */
    record Register(NoisePublicKey self, NoisePublicKey wanted, long session, List<InetSocketAddress> candidates)
            implements ControlMessage {
        /** Fixed size of every REGISTER. */
        public static final int LENGTH = 256;

        public Register {
            candidates = List.copyOf(candidates);
            if (candidates.size() > MAX_CANDIDATES) {
                throw new IllegalArgumentException("at most " + MAX_CANDIDATES + " candidates");
            }
        }

        @Override
        public MessageType type() {
            return MessageType.REGISTER;
        }

        @Override
        public ByteBuffer encode() {
            ByteBuffer out = ByteBuffer.allocate(LENGTH);
            Header.write(out, MessageType.REGISTER);
            out.put(self.toBytes()).put(wanted.toBytes()).putLong(session);
            Codec.writeEndpoints(out, candidates);
            out.position(LENGTH);
            return out.flip();
        }

        static Register decode(ByteBuffer in) throws MalformedMessageException {
            if (in.remaining() != LENGTH) {
                throw new MalformedMessageException(in.remaining() < LENGTH ? Reason.TRUNCATED : Reason.OVERSIZED,
                        "REGISTER must be " + LENGTH + " bytes, got " + in.remaining());
            }
            int end = in.position() + LENGTH;
            Header.read(in, MessageType.REGISTER);
            NoisePublicKey self = Codec.readKey(in);
            NoisePublicKey wanted = Codec.readKey(in);
            long session = in.getLong();
            List<InetSocketAddress> candidates = Codec.readEndpoints(in);
            while (in.position() < end) {
                if (in.get() != 0) {
                    throw new MalformedMessageException(Reason.BAD_FIELD, "REGISTER padding is not zero");
                }
            }
            return new Register(self, wanted, session, candidates);
        }
    }

    /**
     * REGISTERED, rendezvous to peer: the registration of {@code session} is accepted, the
     * server saw it come from {@code observed}, and expects a refresh within
     * {@code refreshSeconds}.
     *
     * <pre>
     * +------+-------------+--------------------+-----------------------+
     * | hdr  | session (8) | refresh secs (2)   | observed endpoint     |
     * +------+-------------+--------------------+-----------------------+
     * </pre>
     */
    record Registered(long session, int refreshSeconds, InetSocketAddress observed) implements ControlMessage {
        @Override
        public MessageType type() {
            return MessageType.REGISTERED;
        }

        @Override
        public ByteBuffer encode() {
            ByteBuffer out = ByteBuffer.allocate(Header.LENGTH + 8 + 2 + Endpoints.length(observed));
            Header.write(out, MessageType.REGISTERED);
            out.putLong(session).putShort((short) refreshSeconds);
            Endpoints.write(out, observed);
            return out.flip();
        }

        static Registered decode(ByteBuffer in) throws MalformedMessageException {
            Header.read(in, MessageType.REGISTERED);
            Codec.require(in, 10, "REGISTERED");
            long session = in.getLong();
            int refresh = in.getShort() & 0xffff;
            return new Registered(session, refresh, Endpoints.read(in));
        }
    }

    /**
     * PEER_INFO, rendezvous to peer: your partner {@code peer}, in session {@code peerSession},
     * was seen at {@code observed} and reported these LAN {@code candidates}.
     *
     * <pre>
     * +------+----------------+-----------------+-------------------+-----+----------------+
     * | hdr  | peer key (32)  | peer session (8)| observed endpoint | n   | n endpoints    |
     * +------+----------------+-----------------+-------------------+-----+----------------+
     * </pre>
     */
    record PeerInfo(NoisePublicKey peer, long peerSession, InetSocketAddress observed,
                    List<InetSocketAddress> candidates) implements ControlMessage {
        public PeerInfo {
            candidates = List.copyOf(candidates);
            if (candidates.size() > MAX_CANDIDATES) {
                throw new IllegalArgumentException("at most " + MAX_CANDIDATES + " candidates");
            }
        }

        @Override
        public MessageType type() {
            return MessageType.PEER_INFO;
        }

        @Override
        public ByteBuffer encode() {
            int size = Header.LENGTH + 32 + 8 + Endpoints.length(observed) + Codec.endpointsLength(candidates);
            ByteBuffer out = ByteBuffer.allocate(size);
            Header.write(out, MessageType.PEER_INFO);
            out.put(peer.toBytes()).putLong(peerSession);
            Endpoints.write(out, observed);
            Codec.writeEndpoints(out, candidates);
            return out.flip();
        }

        static PeerInfo decode(ByteBuffer in) throws MalformedMessageException {
            Header.read(in, MessageType.PEER_INFO);
            NoisePublicKey peer = Codec.readKey(in);
            Codec.require(in, 8, "PEER_INFO");
            long session = in.getLong();
            InetSocketAddress observed = Endpoints.read(in);
            return new PeerInfo(peer, session, observed, Codec.readEndpoints(in));
        }
    }

    /**
     * PUNCH, peer to peer: a probe from {@code sender} (session {@code senderSession}) to
     * {@code receiver}; with {@code ack} set, the answer to a probe. A probe is always answered
     * by an ack of the same size; an ack is never answered.
     *
     * <pre>
     * +------+------------------+-------------------+--------------------+---------+-------------+
     * | hdr  | sender key (32)  | receiver key (32) | sender session (8) | flags   | reserved(3) |
     * |      |                  |                   |                    | bit0=ack|             |
     * +------+------------------+-------------------+--------------------+---------+-------------+
     * </pre>
     */
    record Punch(NoisePublicKey sender, NoisePublicKey receiver, long senderSession, boolean ack)
            implements ControlMessage {
        /** Fixed size of every PUNCH. */
        public static final int LENGTH = Header.LENGTH + 32 + 32 + 8 + 4;

        @Override
        public MessageType type() {
            return MessageType.PUNCH;
        }

        @Override
        public ByteBuffer encode() {
            ByteBuffer out = ByteBuffer.allocate(LENGTH);
            Header.write(out, MessageType.PUNCH);
            out.put(sender.toBytes()).put(receiver.toBytes()).putLong(senderSession);
            out.put((byte) (ack ? 1 : 0)).put((byte) 0).putShort((short) 0);
            return out.flip();
        }

        static Punch decode(ByteBuffer in) throws MalformedMessageException {
            if (in.remaining() != LENGTH) {
                throw new MalformedMessageException(in.remaining() < LENGTH ? Reason.TRUNCATED : Reason.OVERSIZED,
                        "PUNCH must be " + LENGTH + " bytes, got " + in.remaining());
            }
            Header.read(in, MessageType.PUNCH);
            NoisePublicKey sender = Codec.readKey(in);
            NoisePublicKey receiver = Codec.readKey(in);
            long session = in.getLong();
            int flags = in.get() & 0xff;
            if ((flags & ~1) != 0 || in.get() != 0 || in.getShort() != 0) {
                throw new MalformedMessageException(Reason.BAD_FIELD, "PUNCH reserved bits are not zero");
            }
            return new Punch(sender, receiver, session, (flags & 1) != 0);
        }
    }

    /**
     * LEAVE, peer to rendezvous and peer to peer: session {@code session} of {@code sender} ends.
     *
     * <pre>
     * +------+------------------+--------------------+
     * | hdr  | sender key (32)  | sender session (8) |
     * +------+------------------+--------------------+
     * </pre>
     */
    record Leave(NoisePublicKey sender, long session) implements ControlMessage {
        /** Fixed size of every LEAVE. */
        public static final int LENGTH = Header.LENGTH + 32 + 8;

        @Override
        public MessageType type() {
            return MessageType.LEAVE;
        }

        @Override
        public ByteBuffer encode() {
            ByteBuffer out = ByteBuffer.allocate(LENGTH);
            Header.write(out, MessageType.LEAVE);
            out.put(sender.toBytes()).putLong(session);
            return out.flip();
        }

        static Leave decode(ByteBuffer in) throws MalformedMessageException {
            Header.read(in, MessageType.LEAVE);
            NoisePublicKey sender = Codec.readKey(in);
            Codec.require(in, 8, "LEAVE");
            return new Leave(sender, in.getLong());
        }
    }

    /** Codec: field helpers shared by the records. Stateless. */
    final class Codec {
        private Codec() {
        }

        static void require(ByteBuffer in, int bytes, String what) throws MalformedMessageException {
            if (in.remaining() < bytes) {
                throw new MalformedMessageException(Reason.TRUNCATED, what + " truncated");
            }
        }

        static NoisePublicKey readKey(ByteBuffer in) throws MalformedMessageException {
            require(in, NoisePublicKey.LENGTH, "key");
            byte[] raw = new byte[NoisePublicKey.LENGTH];
            in.get(raw);
            return NoisePublicKey.fromBytes(raw);
        }

        static int endpointsLength(List<InetSocketAddress> endpoints) {
            int n = 1;
            for (InetSocketAddress e : endpoints) {
                n += Endpoints.length(e);
            }
            return n;
        }

        static void writeEndpoints(ByteBuffer out, List<InetSocketAddress> endpoints) {
            out.put((byte) endpoints.size());
            for (InetSocketAddress e : endpoints) {
                Endpoints.write(out, e);
            }
        }

        static List<InetSocketAddress> readEndpoints(ByteBuffer in) throws MalformedMessageException {
            require(in, 1, "endpoint count");
            int n = in.get() & 0xff;
            if (n > MAX_CANDIDATES) {
                throw new MalformedMessageException(Reason.BAD_FIELD, n + " candidates; at most " + MAX_CANDIDATES);
            }
            List<InetSocketAddress> list = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                list.add(Endpoints.read(in));
            }
            return list;
        }
    }
}
