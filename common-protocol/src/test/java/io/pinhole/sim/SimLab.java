package io.pinhole.sim;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.peer.PeerTimers;
import io.pinhole.rendezvous.RendezvousConfig;
import java.time.Duration;

/**
 * SimLab: the same topology as the namespace lab (lab/lab.sh), in the simulated network: a
 * rendezvous host at 203.0.113.10, peer a at 10.0.1.2 behind NAT 198.51.100.2, peer b at
 * 10.0.2.2 behind NAT 192.0.2.2, each NAT of the given behaviour.
 */
public final class SimLab {
    public final SimNetwork net;
    public final SimNat natA;
    public final SimNat natB;
    public final SimRendezvous server;
    public final SimPeer a;
    public final SimPeer b;

    public SimLab(long seed, long origin, SimNat.Behaviour behaviourA, SimNat.Behaviour behaviourB) {
        net = new SimNetwork(seed, origin);
        natA = net.addNat("nat-a", "198.51.100.2", behaviourA);
        natB = net.addNat("nat-b", "192.0.2.2", behaviourB);
        SimNetwork.Host rdv = net.addHost("rdv", "203.0.113.10", null);
        SimNetwork.Host hostA = net.addHost("a", "10.0.1.2", natA);
        SimNetwork.Host hostB = net.addHost("b", "10.0.2.2", natB);
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

    /** Both peers started; true when both are connected within {@code limit}. */
    public boolean startAndConnect(Duration limit) {
        a.start();
        b.start();
        return bothConnected(limit);
    }

    public boolean bothConnected(Duration limit) {
        return net.runUntil(() -> a.connected() && b.connected(), limit);
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

    /** A 64-byte IPv4 packet (header fields WireGuard reads are real) carrying {@code id}. */
    public static byte[] packet(int id) {
        byte[] p = new byte[64];
        p[0] = 0x45;
        p[3] = 64; // total length: WireGuard strips padding by it
        java.nio.ByteBuffer.wrap(p, 8, 4).putInt(id);
        return p;
    }
}
