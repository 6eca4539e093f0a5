package io.pinhole.wireguard;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * WireGuardGoInteropChild: run by {@link WireGuardGoInteropTest} inside its network namespace.
 * Drives a {@link WireGuardSession} over a loopback UDP socket against wireguard-go listening on
 * 127.0.0.1:PORT: it sends ICMP echo requests from 10.20.0.2 to 10.20.0.1 (the namespace's own
 * address on the wireguard-go interface) and checks that matching echo replies come back.
 *
 * <pre>
 * args: expect(ok|handshake-fails) privateKeyBase64 peerPublicKeyBase64 port presharedKeyBase64|-
 * </pre>
 * Prints {@code @@ ok ...} and exits 0 when what was expected happened; exits 1 with a reason
 * otherwise.
 */
public final class WireGuardGoInteropChild {
    static final String PREFIX = "@@ ";
    private static final byte[] SELF = {10, 20, 0, 2};
    private static final byte[] PEER = {10, 20, 0, 1};
    private static final long TIMEOUT_NANOS = 20_000_000_000L;

    private WireGuardGoInteropChild() {
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("responder")) {
            System.exit(respond(NoisePrivateKey.parse(args[1]), NoisePublicKey.parse(args[2]),
                    Integer.parseInt(args[3]), args[4].equals("-") ? null : Base64.getDecoder().decode(args[4]),
                    Integer.parseInt(args[5])));
        }
        String expect = args[0];
        NoisePrivateKey key = NoisePrivateKey.parse(args[1]);
        NoisePublicKey peer = NoisePublicKey.parse(args[2]);
        int port = Integer.parseInt(args[3]);
        byte[] psk = args[4].equals("-") ? null : Base64.getDecoder().decode(args[4]);
        System.exit(run(expect, key, peer, port, psk));
    }

    private static int run(String expect, NoisePrivateKey key, NoisePublicKey peer, int port, byte[] psk)
            throws IOException {
        InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        WireGuardSession session = new WireGuardSession(new Identity(key, peer, psk), new SecureRandom(),
                Clock.systemUTC(), SessionTimers.defaults());
        List<byte[]> delivered = new ArrayList<>();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(50);
            SocketOutput out = new SocketOutput(socket, delivered, server);

            int[] payloadSizes = {56, 1000, 0, 1372};
            int next = 0;
            byte[] waitingFor = null;
            long start = System.nanoTime();
            byte[] buf = new byte[65536];
            while (System.nanoTime() - start < TIMEOUT_NANOS) {
                long now = System.nanoTime();
                if (expect.equals("ok") && waitingFor == null) {
                    if (next == payloadSizes.length) {
                        System.out.println(PREFIX + "ok replies=" + next + " handshakes=" + session.handshakesCompleted()
                                + " drops=" + session.drops());
                        return 0;
                    }
                    byte[] payload = new byte[payloadSizes[next]];
                    new SecureRandom().nextBytes(payload);
                    byte[] request = echo(8, 0x5a5a, next + 1, payload, SELF, PEER);
                    waitingFor = echo(0, 0x5a5a, next + 1, payload, PEER, SELF);
                    session.send(now, ByteBuffer.wrap(request), out);
                    next++;
                } else if (expect.equals("handshake-fails") && next == 0) {
                    session.send(now, ByteBuffer.wrap(echo(8, 1, 1, new byte[8], SELF, PEER)), out);
                    next++;
                }
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                    session.receive(System.nanoTime(), (InetSocketAddress) p.getSocketAddress(),
                            ByteBuffer.wrap(buf, 0, p.getLength()), out);
                } catch (SocketTimeoutException e) {
                    // tick below
                }
                session.tick(System.nanoTime(), out);
                for (byte[] d : delivered) {
                    if (waitingFor != null && sameEchoReply(d, waitingFor)) {
                        System.out.println(PREFIX + "reply seq=" + next + " length=" + d.length);
                        waitingFor = null;
                    } else {
                        System.out.println(PREFIX + "unexpected packet " + hex(d));
                    }
                }
                delivered.clear();
                if (expect.equals("handshake-fails")
                        && session.drops().getOrDefault(SessionDrop.HANDSHAKE_FAILED, 0L) > 0) {
                    if (session.canSend(System.nanoTime()) || session.handshakesCompleted() != 0) {
                        System.out.println(PREFIX + "FAIL a handshake completed although the keys differ");
                        return 1;
                    }
                    System.out.println(PREFIX + "ok handshake-failed drops=" + session.drops());
                    return 0;
                }
            }
        }
        System.out.println(PREFIX + "FAIL timed out expecting " + expect + ": handshakes="
                + session.handshakesCompleted() + " canSend=" + session.canSend(System.nanoTime()) + " drops="
                + session.drops() + " staged=" + session.stagedPackets());
        return 1;
    }

    /**
     * The responder role: listens on 127.0.0.1:{@code port} for wireguard-go's initiation
     * (triggered by a ping from the namespace to 10.20.0.2) and answers {@code count} ICMP echo
     * requests addressed to 10.20.0.2.
     */
    private static int respond(NoisePrivateKey key, NoisePublicKey peer, int port, byte[] psk, int count)
            throws IOException {
        WireGuardSession session = new WireGuardSession(new Identity(key, peer, psk), new SecureRandom(),
                Clock.systemUTC(), SessionTimers.defaults());
        List<byte[]> delivered = new ArrayList<>();
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
            socket.setSoTimeout(50);
            SocketOutput out = new SocketOutput(socket, delivered, null); // the endpoint is learned
            System.out.println(PREFIX + "listening port=" + port);
            int answered = 0;
            long start = System.nanoTime();
            byte[] buf = new byte[65536];
            while (System.nanoTime() - start < TIMEOUT_NANOS) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(p);
                    session.receive(System.nanoTime(), (InetSocketAddress) p.getSocketAddress(),
                            ByteBuffer.wrap(buf, 0, p.getLength()), out);
                } catch (SocketTimeoutException e) {
                    // tick below
                }
                session.tick(System.nanoTime(), out);
                for (byte[] d : delivered) {
                    if (d.length >= 28 && (d[0] & 0xff) == 0x45 && d[9] == 1 && d[20] == 8
                            && Arrays.equals(d, 16, 20, SELF, 0, 4) && checksum(d, 20, d.length - 20) == 0) {
                        int id = (d[24] & 0xff) << 8 | (d[25] & 0xff);
                        int seq = (d[26] & 0xff) << 8 | (d[27] & 0xff);
                        byte[] src = Arrays.copyOfRange(d, 12, 16);
                        session.send(System.nanoTime(), ByteBuffer.wrap(
                                echo(0, id, seq, Arrays.copyOfRange(d, 28, d.length), SELF, src)), out);
                        answered++;
                        System.out.println(PREFIX + "answered seq=" + seq + " length=" + d.length);
                    } else {
                        System.out.println(PREFIX + "unexpected packet " + hex(d));
                    }
                }
                delivered.clear();
                if (answered >= count) {
                    System.out.println(PREFIX + "ok answered=" + answered + " handshakes="
                            + session.handshakesCompleted() + " drops=" + session.drops());
                    return 0;
                }
            }
        }
        System.out.println(PREFIX + "FAIL timed out as responder: handshakes=" + session.handshakesCompleted()
                + " drops=" + session.drops());
        return 1;
    }

    /** An IPv4 ICMP echo request (type 8) or reply (type 0) with valid checksums. */
    static byte[] echo(int type, int id, int seq, byte[] payload, byte[] src, byte[] dst) {
        int icmpLength = 8 + payload.length;
        byte[] p = new byte[20 + icmpLength];
        ByteBuffer b = ByteBuffer.wrap(p);
        b.put((byte) 0x45).put((byte) 0).putShort((short) p.length).putShort((short) 0).putShort((short) 0)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(src).put(dst);
        b.put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) seq).put(payload);
        int ipSum = checksum(p, 0, 20);
        p[10] = (byte) (ipSum >>> 8);
        p[11] = (byte) ipSum;
        int icmpSum = checksum(p, 20, icmpLength);
        p[22] = (byte) (icmpSum >>> 8);
        p[23] = (byte) icmpSum;
        return p;
    }

    /** Whether {@code got} is the echo reply {@code want} (TTL, IP id, flags and checksum of the IP header aside). */
    static boolean sameEchoReply(byte[] got, byte[] want) {
        if (got.length != want.length || (got[0] & 0xff) != 0x45 || got[9] != 1
                || checksum(got, 0, 20) != 0 || checksum(got, 20, got.length - 20) != 0) {
            return false;
        }
        return Arrays.equals(got, 12, 20, want, 12, 20) // addresses
                && got[20] == 0 && got[21] == 0 // echo reply
                && Arrays.equals(got, 24, got.length, want, 24, want.length); // id, seq, payload
    }

    /** The Internet checksum of {@code len} bytes at {@code off} (0 when a correct checksum is included). */
    static int checksum(byte[] b, int off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((b[off + i] & 0xff) << 8) | (b[off + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[off + len - 1] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b, 0, Math.min(b.length, 64));
    }

    /**
     * A session's output on a plain UDP socket: sends to the peer's endpoint (given, or learned
     * from the first authenticated datagram) and collects delivered packets.
     */
    private static final class SocketOutput implements SessionOutput {
        private final DatagramSocket socket;
        private final List<byte[]> delivered;
        private InetSocketAddress endpoint;

        SocketOutput(DatagramSocket socket, List<byte[]> delivered, InetSocketAddress endpoint) {
            this.socket = socket;
            this.delivered = delivered;
            this.endpoint = endpoint;
        }

        @Override
        public void sendToPeer(ByteBuffer datagram) {
            if (endpoint != null) {
                send(endpoint, datagram);
            }
        }

        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            byte[] b = new byte[datagram.remaining()];
            datagram.duplicate().get(b);
            try {
                socket.send(new DatagramPacket(b, b.length, to));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            byte[] b = new byte[ipPacket.remaining()];
            ipPacket.duplicate().get(b);
            delivered.add(b);
        }

        @Override
        public void authenticated(InetSocketAddress from) {
            endpoint = from;
        }
    }
}
