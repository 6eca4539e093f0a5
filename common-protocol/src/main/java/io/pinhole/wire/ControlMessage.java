package io.pinhole.wire;

import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.MalformedMessageException.Reason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * ControlMessage: pinhole's own messages (register, challenge, pair, punch, leave), each a
 * record that encodes itself and is decoded by {@link #decode(ByteBuffer)}. Byte layouts are
 * drawn on each record and in docs/wire-format.md; all multi-byte integers are big-endian.
 *
 * <p>Every message but CHALLENGE ends with a 16-byte MAC: keyed BLAKE2s-128 over all bytes
 * before it, as WireGuard's mac1. Between a peer and the server the key comes from
 * DH(peer static, server static); between two peers from their static-static DH (see
 * {@link ControlKeys}). {@link #encode(byte[])} writes it; {@link #macValid}
 * checks it. Decoding checks form only: the receiver checks the MAC with the key it derives
 * from the decoded keys.
 *
 * <p>Records are immutable and thread-safe. Decoding never trusts a length or count field beyond
 * the datagram: any inconsistency throws {@link MalformedMessageException}.
 */
public sealed interface ControlMessage {

    /** How many LAN candidates a peer may report. */
    int MAX_CANDIDATES = 8;
    /** Length of the MAC that ends every authenticated message. */
    int MAC_LENGTH = 16;

    /** Encodes this message, ending with a MAC under {@code macKey} (ignored by CHALLENGE). */
    ByteBuffer encode(byte[] macKey);

    /** The message type. */
    MessageType type();

    /**
     * Decodes a pinhole control message (not WireGuard types). Checks form, not the MAC.
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
            case CHALLENGE -> Challenge.decode(in);
            default -> throw new MalformedMessageException(Reason.UNKNOWN_TYPE, type + " is not a control message");
        };
        if (in.hasRemaining()) {
            throw new MalformedMessageException(Reason.OVERSIZED,
                    type + " has " + in.remaining() + " bytes after its end");
        }
        return message;
    }

    /** True if the last 16 bytes of {@code datagram} are the MAC of the rest under {@code key}. */
    static boolean macValid(ByteBuffer datagram, byte[] key) {
        int n = datagram.remaining();
        if (n < MAC_LENGTH || key == null) {
            return false;
        }
        byte[] body = new byte[n - MAC_LENGTH];
        byte[] mac = new byte[MAC_LENGTH];
        ByteBuffer d = datagram.duplicate();
        d.get(body).get(mac);
        return MessageDigest.isEqual(Blake2s.mac(MAC_LENGTH, key, body), mac);
    }

    /**
     * REGISTER, peer to rendezvous: "I am {@code self}, session {@code session}, and I want to
     * reach {@code wanted}; these are my LAN endpoints." {@code timestamp} (microseconds of wall
     * time, strictly increasing per key) defeats replay, and REGISTERED and PEER_INFO echo it;
     * {@code cookie} is the one the server gave this address in a CHALLENGE (zero before that);
     * {@code nonce} is fresh and random for each REGISTER, and the CHALLENGE that answers it
     * echoes it. Always {@link #LENGTH} bytes, so every reply is smaller than the request.
     *
     * <pre>
     * 0     4             36              68       76         84        100 101                 288        304
     * +-----+-------------+---------------+--------+----------+---------+---+-------------+----+----------+--------+
     * | hdr | self key 32 | wanted key 32 |session | timestamp| cookie  | n | n endpoints |zero| nonce 16 | MAC 16 |
     * |     |             |               |   8    |    8     |   16    | 1 | 7/19 each   |pad |          |        |
     * +-----+-------------+---------------+--------+----------+---------+---+-------------+----+----------+--------+
     * </pre>
     */
    record Register(NoisePublicKey self, NoisePublicKey wanted, long session, long timestamp, byte[] cookie,
                    List<InetSocketAddress> candidates, byte[] nonce) implements ControlMessage {
        /** Fixed size of every REGISTER. */
        public static final int LENGTH = 320;
        /** Length of the server's address cookie. */
        public static final int COOKIE_LENGTH = 16;
        /** Length of the nonce a CHALLENGE echoes. */
        public static final int NONCE_LENGTH = 16;
        /** Where the nonce starts. */
        static final int NONCE_AT = LENGTH - MAC_LENGTH - NONCE_LENGTH;

        public Register {
            candidates = List.copyOf(candidates);
            if (candidates.size() > MAX_CANDIDATES) {
                throw new IllegalArgumentException("at most " + MAX_CANDIDATES + " candidates");
            }
            cookie = Codec.cookieCopy(cookie == null ? new byte[COOKIE_LENGTH] : cookie);
            nonce = Codec.cookieCopy(nonce == null ? new byte[NONCE_LENGTH] : nonce);
        }

        /** A REGISTER with an all-zero nonce. */
        public Register(NoisePublicKey self, NoisePublicKey wanted, long session, long timestamp, byte[] cookie,
                        List<InetSocketAddress> candidates) {
            this(self, wanted, session, timestamp, cookie, candidates, null);
        }

        @Override
        public MessageType type() {
            return MessageType.REGISTER;
        }

        @Override
        public ByteBuffer encode(byte[] macKey) {
            ByteBuffer out = ByteBuffer.allocate(LENGTH);
            Header.write(out, MessageType.REGISTER);
            out.put(self.toBytes()).put(wanted.toBytes()).putLong(session).putLong(timestamp).put(cookie);
            Codec.writeEndpoints(out, candidates);
            out.position(NONCE_AT).put(nonce);
            return Codec.seal(out, macKey);
        }

        static Register decode(ByteBuffer in) throws MalformedMessageException {
            Codec.requireExactly(in, LENGTH, "REGISTER");
            int nonceAt = in.position() + NONCE_AT;
            Header.read(in, MessageType.REGISTER);
            NoisePublicKey self = Codec.readKey(in);
            NoisePublicKey wanted = Codec.readKey(in);
            long session = in.getLong();
            long timestamp = in.getLong();
            byte[] cookie = new byte[COOKIE_LENGTH];
            in.get(cookie);
            List<InetSocketAddress> candidates = Codec.readEndpoints(in);
            while (in.position() < nonceAt) {
                if (in.get() != 0) {
                    throw new MalformedMessageException(Reason.BAD_FIELD, "REGISTER padding is not zero");
                }
            }
            byte[] nonce = new byte[NONCE_LENGTH];
            in.get(nonce);
            in.position(in.position() + MAC_LENGTH);
            return new Register(self, wanted, session, timestamp, cookie, candidates, nonce);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Register r && self.equals(r.self) && wanted.equals(r.wanted) && session == r.session
                    && timestamp == r.timestamp && java.util.Arrays.equals(cookie, r.cookie)
                    && candidates.equals(r.candidates) && java.util.Arrays.equals(nonce, r.nonce);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(self, wanted, session, timestamp, java.util.Arrays.hashCode(cookie),
                    candidates, java.util.Arrays.hashCode(nonce));
        }

        @Override
        public byte[] cookie() {
            return cookie.clone();
        }

        @Override
        public byte[] nonce() {
            return nonce.clone();
        }
    }

    /**
     * CHALLENGE, rendezvous to peer, in answer to a REGISTER without a valid cookie or MAC: the
     * server's static public key, a cookie bound to the peer's address and key, and the
     * {@code nonce} of the REGISTER it answers (so only who saw that REGISTER can make one). No
     * MAC (the peer learns the server key from it, or pins it); 68 bytes.
     *
     * <pre>
     * +-----+-------------------+-------------+------------+
     * | hdr | server key (32)   | cookie (16) | nonce (16) |
     * +-----+-------------------+-------------+------------+
     * </pre>
     */
    record Challenge(NoisePublicKey server, byte[] cookie, byte[] nonce) implements ControlMessage {
        /** Fixed size. */
        public static final int LENGTH = Header.LENGTH + 32 + Register.COOKIE_LENGTH + Register.NONCE_LENGTH;

        public Challenge {
            cookie = Codec.cookieCopy(cookie);
            nonce = Codec.cookieCopy(nonce);
        }

        @Override
        public MessageType type() {
            return MessageType.CHALLENGE;
        }

        @Override
        public ByteBuffer encode(byte[] macKey) {
            ByteBuffer out = ByteBuffer.allocate(LENGTH);
            Header.write(out, MessageType.CHALLENGE);
            out.put(server.toBytes()).put(cookie).put(nonce);
            return out.flip();
        }

        static Challenge decode(ByteBuffer in) throws MalformedMessageException {
            Codec.requireExactly(in, LENGTH, "CHALLENGE");
            Header.read(in, MessageType.CHALLENGE);
            NoisePublicKey server = Codec.readKey(in);
            byte[] cookie = new byte[Register.COOKIE_LENGTH];
            in.get(cookie);
            byte[] nonce = new byte[Register.NONCE_LENGTH];
            in.get(nonce);
            return new Challenge(server, cookie, nonce);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Challenge c && server.equals(c.server) && java.util.Arrays.equals(cookie, c.cookie)
                    && java.util.Arrays.equals(nonce, c.nonce);
        }

        @Override
        public int hashCode() {
            return (server.hashCode() * 31 + java.util.Arrays.hashCode(cookie)) * 31 + java.util.Arrays.hashCode(nonce);
        }

        @Override
        public byte[] cookie() {
            return cookie.clone();
        }

        @Override
        public byte[] nonce() {
            return nonce.clone();
        }
    }

    /**
     * REGISTERED, rendezvous to peer: the REGISTER of {@code session} with {@code timestamp} is
     * accepted, the server saw it come from {@code observed}, and expects a refresh within
     * {@code refreshSeconds}. MACed with the peer-server key; the session and timestamp say which
     * REGISTER it answers, so a recorded one cannot be replayed as news.
     *
     * <pre>
     * +-----+-------------+---------------+------------------+-------------------+--------+
     * | hdr | session (8) | timestamp (8) | refresh secs (2) | observed endpoint | MAC 16 |
     * +-----+-------------+---------------+------------------+-------------------+--------+
     * </pre>
     */
    record Registered(long session, long timestamp, int refreshSeconds, InetSocketAddress observed)
            implements ControlMessage {
        @Override
        public MessageType type() {
            return MessageType.REGISTERED;
        }

        @Override
        public ByteBuffer encode(byte[] macKey) {
            ByteBuffer out = ByteBuffer.allocate(Header.LENGTH + 8 + 8 + 2 + Endpoints.length(observed) + MAC_LENGTH);
            Header.write(out, MessageType.REGISTERED);
            out.putLong(session).putLong(timestamp).putShort((short) refreshSeconds);
            Endpoints.write(out, observed);
            return Codec.seal(out, macKey);
        }

        static Registered decode(ByteBuffer in) throws MalformedMessageException {
            Header.read(in, MessageType.REGISTERED);
            Codec.require(in, 18, "REGISTERED");
            long session = in.getLong();
            long timestamp = in.getLong();
            int refresh = in.getShort() & 0xffff;
            InetSocketAddress observed = Endpoints.read(in);
            Codec.skipMac(in, "REGISTERED");
            return new Registered(session, timestamp, refresh, observed);
        }
    }

    /**
     * PEER_INFO, rendezvous to peer: your partner {@code peer}, in session {@code peerSession},
     * was seen at {@code observed} and reported these LAN {@code candidates} in its REGISTER of
     * {@code peerTimestamp}. It answers the recipient's REGISTER of {@code session} and
     * {@code timestamp} (its latest, when the partner's registration is the news). MACed with
     * the recipient's peer-server key. The pair ({@code timestamp}, {@code peerTimestamp}) grows
     * with every new PEER_INFO, so a recorded one cannot be replayed as news.
     *
     * <pre>
     * +-----+-------------+---------------+---------------+-----------------+-------------------+
     * | hdr | session (8) | timestamp (8) | peer key (32) | peer session (8)| peer timestamp (8)|
     * +-----+-------------+---------------+---------------+-----------------+-------------------+
     * | observed endpoint | n | n endpoints | MAC 16 |
     * +-------------------+---+-------------+--------+
     * </pre>
     */
    record PeerInfo(long session, long timestamp, NoisePublicKey peer, long peerSession, long peerTimestamp,
                    InetSocketAddress observed, List<InetSocketAddress> candidates) implements ControlMessage {
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

        /** True if {@code other} says the same about the partner (key, session, endpoints), whatever it answers. */
        public boolean sameNews(PeerInfo other) {
            return other != null && peer.equals(other.peer) && peerSession == other.peerSession
                    && observed.equals(other.observed) && candidates.equals(other.candidates);
        }

        @Override
        public ByteBuffer encode(byte[] macKey) {
            int size = Header.LENGTH + 8 + 8 + 32 + 8 + 8 + Endpoints.length(observed)
                    + Codec.endpointsLength(candidates) + MAC_LENGTH;
            ByteBuffer out = ByteBuffer.allocate(size);
            Header.write(out, MessageType.PEER_INFO);
            out.putLong(session).putLong(timestamp).put(peer.toBytes()).putLong(peerSession).putLong(peerTimestamp);
            Endpoints.write(out, observed);
            Codec.writeEndpoints(out, candidates);
            return Codec.seal(out, macKey);
        }

        static PeerInfo decode(ByteBuffer in) throws MalformedMessageException {
            Header.read(in, MessageType.PEER_INFO);
            Codec.require(in, 16, "PEER_INFO");
            long session = in.getLong();
            long timestamp = in.getLong();
            NoisePublicKey peer = Codec.readKey(in);
            Codec.require(in, 16, "PEER_INFO");
            long peerSession = in.getLong();
            long peerTimestamp = in.getLong();
            InetSocketAddress observed = Endpoints.read(in);
            List<InetSocketAddress> candidates = Codec.readEndpoints(in);
            Codec.skipMac(in, "PEER_INFO");
            return new PeerInfo(session, timestamp, peer, peerSession, peerTimestamp, observed, candidates);
        }
    }

    /**
     * PUNCH, peer to peer: probe number {@code counter} from {@code sender} (session
     * {@code senderSession}) to {@code receiver}, whose session the sender believes is
     * {@code receiverSession}; with {@code ack} set, the answer to that probe (it echoes the
     * counter and names the prober's session, so an old ack cannot be replayed to a new session).
     * A probe is answered by an ack of the same size; an ack never is. MACed with the two peers'
     * static-static key, so nobody else can make one.
     *
     * <pre>
     * +-----+-----------------+-------------------+--------------------+----------------------+
     * | hdr | sender key (32) | receiver key (32) | sender session (8) | receiver session (8) |
     * +-----+-----------------+-------------------+--------------------+----------------------+
     * | counter (8) | flags (1): bit 0 = ack | reserved (3) = 0 | MAC (16) |
     * +-------------+------------------------+------------------+----------+
     * </pre>
     */
    record Punch(NoisePublicKey sender, NoisePublicKey receiver, long senderSession, long receiverSession,
                 long counter, boolean ack) implements ControlMessage {
        /** Fixed size of every PUNCH. */
        public static final int LENGTH = Header.LENGTH + 32 + 32 + 8 + 8 + 8 + 4 + MAC_LENGTH;

        @Override
        public MessageType type() {
            return MessageType.PUNCH;
        }

        @Override
        public ByteBuffer encode(byte[] macKey) {
            ByteBuffer out = ByteBuffer.allocate(LENGTH);
            Header.write(out, MessageType.PUNCH);
            out.put(sender.toBytes()).put(receiver.toBytes()).putLong(senderSession).putLong(receiverSession)
                    .putLong(counter);
            out.put((byte) (ack ? 1 : 0)).put((byte) 0).putShort((short) 0);
            return Codec.seal(out, macKey);
        }

        static Punch decode(ByteBuffer in) throws MalformedMessageException {
            Codec.requireExactly(in, LENGTH, "PUNCH");
            Header.read(in, MessageType.PUNCH);
            NoisePublicKey sender = Codec.readKey(in);
            NoisePublicKey receiver = Codec.readKey(in);
            long senderSession = in.getLong();
            long receiverSession = in.getLong();
            long counter = in.getLong();
            int flags = in.get() & 0xff;
            if ((flags & ~1) != 0 || in.get() != 0 || in.getShort() != 0) {
                throw new MalformedMessageException(Reason.BAD_FIELD, "PUNCH reserved bits are not zero");
            }
            Codec.skipMac(in, "PUNCH");
            return new Punch(sender, receiver, senderSession, receiverSession, counter, (flags & 1) != 0);
        }
    }

    /**
     * LEAVE, peer to rendezvous (MACed with the peer-server key) and peer to peer (MACed with
     * the peers' key): session {@code session} of {@code sender} ends. {@code timestamp} as in
     * REGISTER.
     *
     * <pre>
     * +-----+-----------------+--------------------+---------------+--------+
     * | hdr | sender key (32) | sender session (8) | timestamp (8) | MAC 16 |
     * +-----+-----------------+--------------------+---------------+--------+
     * </pre>
     */
    record Leave(NoisePublicKey sender, long session, long timestamp) implements ControlMessage {
        /** Fixed size of every LEAVE. */
        public static final int LENGTH = Header.LENGTH + 32 + 8 + 8 + MAC_LENGTH;

        @Override
        public MessageType type() {
            return MessageType.LEAVE;
        }

        @Override
        public ByteBuffer encode(byte[] macKey) {
            ByteBuffer out = ByteBuffer.allocate(LENGTH);
            Header.write(out, MessageType.LEAVE);
            out.put(sender.toBytes()).putLong(session).putLong(timestamp);
            return Codec.seal(out, macKey);
        }

        static Leave decode(ByteBuffer in) throws MalformedMessageException {
            Codec.requireExactly(in, LENGTH, "LEAVE");
            Header.read(in, MessageType.LEAVE);
            NoisePublicKey sender = Codec.readKey(in);
            long session = in.getLong();
            long timestamp = in.getLong();
            Codec.skipMac(in, "LEAVE");
            return new Leave(sender, session, timestamp);
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

        static void requireExactly(ByteBuffer in, int length, String what) throws MalformedMessageException {
            if (in.remaining() != length) {
                throw new MalformedMessageException(in.remaining() < length ? Reason.TRUNCATED : Reason.OVERSIZED,
                        what + " must be " + length + " bytes, got " + in.remaining());
            }
        }

        /** A copy of a cookie or nonce (both 16 bytes). */
        static byte[] cookieCopy(byte[] cookie) {
            if (cookie.length != Register.COOKIE_LENGTH) {
                throw new IllegalArgumentException("cookie and nonce must be " + Register.COOKIE_LENGTH + " bytes");
            }
            return cookie.clone();
        }

        static void skipMac(ByteBuffer in, String what) throws MalformedMessageException {
            require(in, MAC_LENGTH, what + " MAC");
            in.position(in.position() + MAC_LENGTH);
        }

        /** Writes the MAC of everything before the current position into the last 16 bytes. */
        static ByteBuffer seal(ByteBuffer out, byte[] macKey) {
            int bodyLength = out.capacity() - MAC_LENGTH;
            byte[] body = new byte[bodyLength];
            out.duplicate().position(0).get(body);
            byte[] mac = macKey == null ? new byte[MAC_LENGTH] : Blake2s.mac(MAC_LENGTH, macKey, body);
            out.position(bodyLength);
            out.put(mac);
            return out.flip();
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
