package io.pinhole.sim;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.peer.PeerTimers;
import io.pinhole.rendezvous.RendezvousConfig;
import java.time.Duration;

/**
 * SimLab: the same topology as the namespace lab (lab/lab.sh), in the simulated network: a
 * rendezvous host at 203.0.113.10, peer a at 10.0.1.2 behind NAT 198.51.100.2, peer b at
 * 10.0.2.2 behind NAT 192.0.2.2, each NAT of the given behaviour.
 *
 * <p>The lab's other shapes: {@link #of} takes the lab's NAT modes ({@link Mode}), where
 * {@link Mode#CGNAT} puts the peer's home NAT (WAN 100.64.1.2 or 100.64.2.2) behind a carrier
 * NAT holding the public address ({@link #carrierA}, {@link #carrierB}) and {@link Mode#BLOCKED}
 * lets UDP out only to the rendezvous host; {@link #sameNat} puts a (10.0.1.2) and b (10.0.1.3)
 * behind one NAT (natA == natB) with hairpinning and client isolation on or off; and
 * {@link #netem} impairs a side's WAN link, as lab.sh's {@code --netem}.
 */
public final class SimLab {
    /** The lab's NAT modes (lab.sh {@code --nat-a}/{@code --nat-b}). */
    public enum Mode {
        HOME, OPEN, SYMMETRIC, CGNAT, BLOCKED;

        /** The name lab.sh uses. */
        public String labName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static final String RENDEZVOUS_IP = "203.0.113.10";

    public final SimNetwork net;
    /** Peer a's own NAT (the inner one under CGNAT). */
    public final SimNat natA;
    /** Peer b's own NAT (the same object as natA behind one NAT). */
    public final SimNat natB;
    /** The carrier NAT in front of natA (CGNAT), or null. */
    public final SimNat carrierA;
    /** The carrier NAT in front of natB (CGNAT), or null. */
    public final SimNat carrierB;
    public final SimRendezvous server;
    public final SimPeer a;
    public final SimPeer b;

    private record Side(Mode mode, SimNat.Behaviour behaviour) {
    }

    public SimLab(long seed, long origin, SimNat.Behaviour behaviourA, SimNat.Behaviour behaviourB) {
        this(seed, origin, new Side(null, behaviourA), new Side(null, behaviourB), null, false, false);
    }

    private SimLab(long seed, long origin, Side sideA, Side sideB, SimNat.Behaviour shared, boolean hairpin,
                   boolean isolate) {
        net = new SimNetwork(seed, origin);
        SimNetwork.Host hostA;
        SimNetwork.Host hostB;
        if (shared != null) {
            natA = net.addNat("nat-a", "198.51.100.2", shared).hairpin(hairpin).isolateLan(isolate);
            natB = natA;
            carrierA = null;
            carrierB = null;
        } else {
            carrierA = sideA.mode == Mode.CGNAT ? net.addNat("cgn-a", "198.51.100.2", SimNat.Behaviour.HOME) : null;
            carrierB = sideB.mode == Mode.CGNAT ? net.addNat("cgn-b", "192.0.2.2", SimNat.Behaviour.HOME) : null;
            natA = net.addNat("nat-a", carrierA != null ? "100.64.1.2" : "198.51.100.2", sideA.behaviour, carrierA);
            natB = net.addNat("nat-b", carrierB != null ? "100.64.2.2" : "192.0.2.2", sideB.behaviour, carrierB);
        }
        SimNetwork.Host rdv = net.addHost("rdv", RENDEZVOUS_IP, null);
        for (Side side : new Side[] {sideA, sideB}) {
            if (side.mode == Mode.BLOCKED) {
                (side == sideA ? natA : natB).udpOnlyTo(rdv.address());
            }
        }
        hostA = net.addHost("a", "10.0.1.2", natA);
        hostB = net.addHost("b", shared != null ? "10.0.1.3" : "10.0.2.2", natB);
        server = new SimRendezvous(net, rdv, 7777, RendezvousConfig.defaults());
        java.security.SecureRandom keys = net.secureRandom(); // seeded: the same keys, so the same run, every time
        NoisePrivateKey keyA = NoisePrivateKey.generate(keys);
        NoisePrivateKey keyB = NoisePrivateKey.generate(keys);
        a = new SimPeer(net, hostA, 51820, keyA, keyB.publicKey(), server.endpoint(), PeerTimers.defaults());
        b = new SimPeer(net, hostB, 51820, keyB, keyA.publicKey(), server.endpoint(), PeerTimers.defaults());
    }

    /** Two home routers, seed 1, origin just below the long overflow. */
    public static SimLab homeRouters() {
        return new SimLab(1, Long.MAX_VALUE - Duration.ofSeconds(30).toNanos(), SimNat.Behaviour.HOME,
                SimNat.Behaviour.HOME);
    }

    /** a behind a NAT of lab mode {@code modeA}, b behind one of {@code modeB} (lab.sh --nat-a/--nat-b). */
    public static SimLab of(long seed, long origin, Mode modeA, Mode modeB) {
        return new SimLab(seed, origin, side(modeA), side(modeB), null, false, false);
    }

    /** a and b on one LAN behind one NAT (lab.sh --same-nat [--hairpin on] [--isolate]). */
    public static SimLab sameNat(long seed, long origin, SimNat.Behaviour behaviour, boolean hairpin,
                                 boolean isolate) {
        return new SimLab(seed, origin, new Side(null, behaviour), new Side(null, behaviour), behaviour, hairpin,
                isolate);
    }

    private static Side side(Mode mode) {
        SimNat.Behaviour behaviour = switch (mode) {
            case OPEN -> SimNat.Behaviour.OPEN;
            case SYMMETRIC -> SimNat.Behaviour.SYMMETRIC;
            case HOME, CGNAT, BLOCKED -> SimNat.Behaviour.HOME;
        };
        return new Side(mode, behaviour);
    }

    /** The NAT holding a's public address: the carrier under CGNAT, else natA. */
    public SimNat publicNatA() {
        return carrierA != null ? carrierA : natA;
    }

    /** The NAT holding b's public address: the carrier under CGNAT, else natB. */
    public SimNat publicNatB() {
        return carrierB != null ? carrierB : natB;
    }

    /** Loss and extra one-way delay on the WAN link of {@code side}'s public NAT, both directions (lab.sh --netem). */
    public SimLab netem(SimPeer side, double loss, Duration delay) {
        (side == a ? publicNatA() : publicNatB()).impairWan(loss, delay);
        return this;
    }

    /** Both peers started; true when both are connected within {@code limit}. */
    public boolean startAndConnect(Duration limit) {
        a.start();
        b.start();
        return bothConnected(limit);
    }

    public boolean bothConnected(Duration limit) {
        return net.runUntil(() -> a.connected() && b.connected(), limit);
    }

    /** Runs until both peers' tunnels are on a direct path (the relay carries them before); true if within {@code limit}. */
    public boolean bothDirect(Duration limit) {
        return net.runUntil(() -> a.connected() && b.connected()
                && a.machine().path() == io.pinhole.peer.PathKind.DIRECT
                && b.machine().path() == io.pinhole.peer.PathKind.DIRECT, limit);
    }

    /** Sends one fresh packet each way and runs until both arrive; true if they did in {@code limit}. */
    public boolean pingBothWays(Duration limit) {
        int beforeA = a.delivered().size();
        int beforeB = b.delivered().size();
        byte[] ab = packet(net.random().nextInt());
        byte[] ba = packet(net.random().nextInt());
        a.sendIp(ab);
        b.sendIp(ba);
        return net.runUntil(() -> containsAfter(b, beforeB, ab) && containsAfter(a, beforeA, ba), limit);
    }

    /** Both peers' states and drop counters, for assertion messages. */
    public String describe() {
        return "a: " + a.machine().state() + " ready=" + a.machine().tunnelReady() + " drops=" + a.machine().drops()
                + " wg=" + a.machine().wireGuard().drops() + "; b: " + b.machine().state() + " ready="
                + b.machine().tunnelReady() + " drops=" + b.machine().drops() + " wg=" + b.machine().wireGuard().drops();
    }

    private static boolean containsAfter(SimPeer peer, int from, byte[] packet) {
        for (int i = from; i < peer.delivered().size(); i++) {
            if (java.util.Arrays.equals(peer.delivered().get(i), packet)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code from} sends {@code to} a packet every {@code step} for {@code duration}, and
     * {@code fault} runs 1 s in; returns the longest time {@code to} went without a delivery, in
     * milliseconds (the tail included: a stream that never comes back counts to its end).
     */
    public long longestGap(SimPeer from, SimPeer to, Duration duration, Duration step, Runnable fault) {
        long lastArrival = net.now();
        long longest = 0;
        int delivered = to.delivered().size();
        int faultAt = (int) (1_000 / step.toMillis());
        for (int i = 0; i < duration.toMillis() / step.toMillis(); i++) {
            if (i == faultAt) {
                fault.run();
            }
            from.sendIp(packet(i));
            net.runFor(step);
            if (to.delivered().size() > delivered) {
                delivered = to.delivered().size();
                longest = Math.max(longest, net.now() - lastArrival);
                lastArrival = net.now();
            }
        }
        return Math.max(longest, net.now() - lastArrival) / 1_000_000;
    }

    /** A 64-byte IPv4 packet (header fields WireGuard reads are real) carrying {@code id}. */
    public static byte[] packet(int id) {
        byte[] p = new byte[64];
        p[0] = 0x45;
        p[3] = 64; // total length: WireGuard strips padding by it
        java.nio.ByteBuffer.wrap(p, 8, 4).putInt(id);
        return p;
    }
}
