package io.pinhole.device;

import io.pinhole.peer.AllowedIps;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * DeviceLinearRoutes: {@link DeviceRoutes} by a scan over every peer's {@link AllowedIps}: the
 * longest matching prefix wins, the first peer among equals (so two peers that hold the same
 * network are a configuration mistake that this table resolves by order). O(peers) per packet;
 * fine for a handful of peers.
 *
 * <p>Immutable and thread-safe. Never throws for any packet.
 */
public final class DeviceLinearRoutes implements DeviceRoutes {
    private static final int IPV4_HEADER = 20;
    private static final int IPV4_DESTINATION = 16;
    private static final int IPV6_HEADER = 40;
    private static final int IPV6_DESTINATION = 24;

    private final AllowedIps[] peers;

    /** @param peers each peer's allowed IPs, in the device's peer order */
    public DeviceLinearRoutes(List<AllowedIps> peers) {
        this.peers = peers.toArray(new AllowedIps[0]);
    }

    @Override
    public int lookup(ByteBuffer packet) {
        int p = packet.position();
        int length = packet.remaining();
        if (length < 1) {
            return NOT_IP;
        }
        int version = (packet.get(p) & 0xff) >>> 4;
        boolean little = packet.order() == ByteOrder.LITTLE_ENDIAN;
        int best = NO_PEER;
        int bestPrefix = -1;
        if (version == 4 && length >= IPV4_HEADER) {
            int a = packet.getInt(p + IPV4_DESTINATION);
            int destination = little ? Integer.reverseBytes(a) : a;
            for (int i = 0; i < peers.length; i++) {
                int prefix = peers[i].matchIpv4(destination);
                if (prefix > bestPrefix) {
                    bestPrefix = prefix;
                    best = i;
                }
            }
            return best;
        }
        if (version == 6 && length >= IPV6_HEADER) {
            long h = packet.getLong(p + IPV6_DESTINATION);
            long l = packet.getLong(p + IPV6_DESTINATION + 8);
            long high = little ? Long.reverseBytes(h) : h;
            long low = little ? Long.reverseBytes(l) : l;
            for (int i = 0; i < peers.length; i++) {
                int prefix = peers[i].matchIpv6(high, low);
                if (prefix > bestPrefix) {
                    bestPrefix = prefix;
                    best = i;
                }
            }
            return best;
        }
        return NOT_IP;
    }
}
