package io.pinhole.e2e.tools;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.MalformedMessageException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code RegisterLoad PORT ONE_SOURCE_KEYS FILL_SOURCES FILL_KEYS FLOOD_SOURCES FLOOD_RATE FLOOD_SECONDS}: a
 * load generator that speaks the real rendezvous protocol to the server at 127.0.0.1:PORT from
 * loopback source addresses (127.0.0.0/8 is all local, so any of them can be bound), each key
 * on its own socket, as real clients would:
 *
 * <ol>
 *   <li>one source (127.1.0.1) registers ONE_SOURCE_KEYS keys, and FILL_SOURCES other sources
 *       (127.2.s.1) FILL_KEYS keys each, all unpaired, retrying every second as clients do, and
 *       refreshing every 10 s once registered (the FILL keys are the incumbents whose refreshes count);</li>
 *   <li>then FLOOD_SOURCES sources (127.3.x.y) each get a cookie for a random key and send
 *       REGISTERs with that cookie and a wrong MAC, FLOOD_RATE a second in all for FLOOD_SECONDS:
 *       each one the server lets through costs it a Diffie-Hellman and comes back as a
 *       CHALLENGE (a BAD_MAC answer), so the CHALLENGEs count the Diffie-Hellmans;</li>
 *   <li>two seconds into the flood, two newcomers (127.4.0.1 and 127.4.0.2) register wanting each
 *       other, and wait for the PEER_INFO that pairs them.</li>
 * </ol>
 *
 * Prints one line per result ({@code one-source: ...}, {@code fill: ...}, {@code newcomers: ...},
 * {@code flood: ...}, {@code incumbents: ...}); exits 0. Every reply is checked (type, MAC) before it
 * counts.
 */
public final class RegisterLoad {
    private static final long MS = 1_000_000L;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final NoisePublicKey NOBODY = NoisePublicKey.fromBytes(bytes(32));

    private RegisterLoad() {
    }

    private enum Role { ONE_SOURCE, FILL, NEWCOMER, FLOOD }

    /** One key on its own socket. */
    private static final class Slot {
        final Role role;
        final DatagramChannel channel;
        final NoisePrivateKey key = NoisePrivateKey.generate(RANDOM);
        final long session = RANDOM.nextLong() | 1;
        NoisePublicKey wanted = NOBODY;
        byte[] cookie;
        byte[] macKey;
        long timestamp = System.currentTimeMillis() * 1000;
        long sentAt = Long.MIN_VALUE;
        long registeredAt = Long.MIN_VALUE;
        /** When it last registered or sent a refresh (valid once registered). */
        long refreshedAt;
        boolean refreshPending;
        long pairedAt = Long.MIN_VALUE;
        int challenges;
        byte[] forged;

        Slot(Role role, String address, int port) throws IOException {
            this.role = role;
            this.channel = DatagramChannel.open(StandardProtocolFamily.INET);
            channel.bind(new InetSocketAddress(address, port));
            channel.configureBlocking(false);
        }
    }

    private static InetSocketAddress server;
    private static NoisePublicKey serverKey;
    private static int refreshesSent;
    private static int refreshesAnswered;

    public static void main(String[] args) throws Exception {
        server = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]));
        int oneSourceKeys = Integer.parseInt(args[1]);
        int fillSources = Integer.parseInt(args[2]);
        int fillKeys = Integer.parseInt(args[3]);
        int floodSources = Integer.parseInt(args[4]);
        int floodRate = Integer.parseInt(args[5]);
        int floodSeconds = Integer.parseInt(args[6]);

        Selector selector = Selector.open();
        List<Slot> slots = new ArrayList<>();
        for (int i = 0; i < oneSourceKeys; i++) {
            slots.add(new Slot(Role.ONE_SOURCE, "127.1.0.1", 20000 + i));
        }
        for (int s = 0; s < fillSources; s++) {
            for (int i = 0; i < fillKeys; i++) {
                slots.add(new Slot(Role.FILL, "127.2." + s + ".1", 20000 + i));
            }
        }
        for (Slot slot : slots) {
            slot.channel.register(selector, SelectionKey.OP_READ, slot);
        }

        long start = System.nanoTime();
        // 1: registration, and refreshes, until every FILL key is in and no ONE_SOURCE key got in for 2 s (the
        // extra ones never do), 25 s at most. Keys of one source retry together once a second, as clients would, and
        // a source's Diffie-Hellman budget holds 5 at once: about 5 a second per source get in.
        long lastOneSourceIn = start;
        long oneSourceIn = 0;
        while (System.nanoTime() - start < 25_000 * MS && (System.nanoTime() - lastOneSourceIn < 2_000 * MS
                || slots.stream().anyMatch(s -> s.role == Role.FILL && s.registeredAt == Long.MIN_VALUE))) {
            long now = System.nanoTime();
            step(selector, slots, now);
            long in = slots.stream().filter(s -> s.role == Role.ONE_SOURCE && s.registeredAt != Long.MIN_VALUE).count();
            if (in != oneSourceIn) {
                oneSourceIn = in;
                lastOneSourceIn = now;
            }
        }
        long oneIn = slots.stream().filter(s -> s.role == Role.ONE_SOURCE && s.registeredAt != Long.MIN_VALUE).count();
        long fillIn = slots.stream().filter(s -> s.role == Role.FILL && s.registeredAt != Long.MIN_VALUE).count();
        System.out.println("one-source: " + oneIn + " of " + oneSourceKeys + " registered");
        System.out.println("fill: " + fillIn + " of " + fillSources * fillKeys + " registered in "
                + (System.nanoTime() - start) / MS + " ms");

        // 2: the flood, with the newcomers two seconds into it
        List<Slot> flood = new ArrayList<>();
        for (int i = 0; i < floodSources; i++) {
            Slot slot = new Slot(Role.FLOOD, "127.3." + (i / 250) + "." + (i % 250 + 1), 30000);
            slot.channel.register(selector, SelectionKey.OP_READ, slot);
            flood.add(slot);
            slots.add(slot);
        }
        Slot c = new Slot(Role.NEWCOMER, "127.4.0.1", 40000);
        Slot d = new Slot(Role.NEWCOMER, "127.4.0.2", 40000);
        c.wanted = d.key.publicKey();
        d.wanted = c.key.publicKey();
        long floodStart = System.nanoTime();
        long floodEnd = floodStart + floodSeconds * 1000 * MS;
        long newcomersAt = floodStart + 2000 * MS;
        long forgedSent = 0;
        int next = 0;
        boolean newcomersStarted = false;
        while (System.nanoTime() < floodEnd) {
            long now = System.nanoTime();
            long due = (now - floodStart) * floodRate / (1000 * MS);
            for (int burst = 0; forgedSent < due && burst < 200; burst++) {
                Slot slot = flood.get(next);
                next = (next + 1) % flood.size();
                if (slot.forged != null) {
                    slot.channel.send(ByteBuffer.wrap(slot.forged), server);
                    forgedSent++;
                } else if (slot.sentAt == Long.MIN_VALUE || now - slot.sentAt > 1000 * MS) {
                    slot.sentAt = now; // first, a REGISTER without a cookie, for one
                    slot.channel.send(new Register(slot.key.publicKey(), NOBODY, slot.session, slot.timestamp++, null,
                            List.of()).encode(null), server);
                }
            }
            if (!newcomersStarted && now >= newcomersAt) {
                newcomersStarted = true;
                for (Slot n : List.of(c, d)) {
                    n.channel.register(selector, SelectionKey.OP_READ, n);
                    slots.add(n);
                }
            }
            step(selector, slots, now);
        }
        if (c.pairedAt != Long.MIN_VALUE && d.pairedAt != Long.MIN_VALUE) {
            System.out.println("newcomers: paired in " + (Math.max(c.pairedAt, d.pairedAt) - newcomersAt) / MS + " ms");
        } else {
            System.out.println("newcomers: not paired (registered: " + (c.registeredAt != Long.MIN_VALUE) + ", "
                    + (d.registeredAt != Long.MIN_VALUE) + ")");
        }
        long diffieHellmans = flood.stream().mapToLong(s -> Math.max(0, s.challenges - 1)).sum();
        System.out.println("flood: " + forgedSent + " forged REGISTERs from " + floodSources + " sources in "
                + floodSeconds + " s, " + diffieHellmans + " answered after a Diffie-Hellman");
        System.out.println("incumbents: " + refreshesAnswered + " of " + refreshesSent + " refreshes answered");
    }

    /** Reads every reply that has come, and sends what is due: first REGISTERs, retries, refreshes. */
    private static void step(Selector selector, List<Slot> slots, long now) throws IOException {
        selector.select(1);
        for (SelectionKey k : selector.selectedKeys()) {
            Slot slot = (Slot) k.attachment();
            ByteBuffer buf = ByteBuffer.allocate(2048);
            while (slot.channel.receive(buf.clear()) != null) {
                onReply(slot, buf.flip(), now);
            }
        }
        selector.selectedKeys().clear();
        for (Slot slot : slots) {
            if (slot.role == Role.FLOOD) {
                continue;
            }
            boolean registered = slot.registeredAt != Long.MIN_VALUE;
            if (!registered && (slot.sentAt == Long.MIN_VALUE || now - slot.sentAt > 1000 * MS)) {
                slot.sentAt = now;
                send(slot); // with the cookie and MAC once it has them, as a client retries
            } else if (registered && now - slot.refreshedAt > 10_000 * MS) {
                slot.refreshedAt = now;
                slot.refreshPending = slot.role == Role.FILL; // the incumbents counted: never over quota
                refreshesSent += slot.refreshPending ? 1 : 0;
                send(slot);
            }
        }
    }

    private static void send(Slot slot) throws IOException {
        slot.channel.send(new Register(slot.key.publicKey(), slot.wanted, slot.session, slot.timestamp++, slot.cookie,
                List.of()).encode(slot.macKey), server);
    }

    private static void onReply(Slot slot, ByteBuffer datagram, long now) throws IOException {
        ControlMessage message;
        try {
            message = ControlMessage.decode(datagram.duplicate());
        } catch (MalformedMessageException e) {
            return;
        }
        if (message instanceof Challenge challenge) {
            slot.challenges++;
            if (serverKey == null) {
                serverKey = challenge.server();
            }
            slot.cookie = challenge.cookie();
            if (slot.role == Role.FLOOD) {
                if (slot.forged == null) {
                    // the cookie is for slot.key at this address: REGISTERs of that key, under a wrong MAC key
                    slot.forged = new Register(slot.key.publicKey(), NOBODY, slot.session, slot.timestamp++,
                            slot.cookie, List.of()).encode(bytes(32)).array();
                }
                return;
            }
            if (slot.macKey == null) {
                slot.macKey = ControlKeys.peerServer(slot.key, serverKey);
            }
            slot.sentAt = now;
            send(slot); // at once, as a client does
        } else if (message instanceof Registered && slot.macKey != null
                && ControlMessage.macValid(datagram.duplicate(), slot.macKey)) {
            if (slot.registeredAt == Long.MIN_VALUE) {
                slot.registeredAt = now;
                slot.refreshedAt = now;
            }
            if (slot.refreshPending) {
                slot.refreshPending = false;
                refreshesAnswered++;
            }
        } else if (message instanceof PeerInfo info && slot.macKey != null
                && ControlMessage.macValid(datagram.duplicate(), slot.macKey) && info.peer().equals(slot.wanted)
                && slot.pairedAt == Long.MIN_VALUE) {
            slot.pairedAt = now;
        }
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
