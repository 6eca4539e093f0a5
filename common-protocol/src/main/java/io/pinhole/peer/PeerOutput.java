package io.pinhole.peer;

import io.pinhole.wire.Transmit;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * PeerOutput: everything a {@link PeerMachine} produces: datagrams to send (from
 * {@link Transmit}) and IP packets to write to the TUN device. The machine calls these
 * synchronously; implementations must not call back into the machine.
 *
 * <p>Sockets: {@link #send} leaves from the main socket (socket 0). For birthday punching
 * ({@link Traversal#birthday()}) the machine may ask for spare sockets, ids 1..n, each bound to
 * its own local port; datagrams arriving on spare socket i go to
 * {@link PeerMachine#onDatagram(long, int, InetSocketAddress, ByteBuffer, PeerOutput)} with
 * socket i. The defaults offer no spare sockets, so an edge that does not implement them keeps
 * working and simply never punches that way.
 *
 * <p>Error contract: no method throws for a network failure; a send that fails is the edge's to
 * log and count.
 */
public interface PeerOutput extends Transmit {
    /** Writes one IP packet (position..limit) to the TUN device. */
    void deliver(ByteBuffer ipPacket);

    /**
     * Sends a datagram with the IP time-to-live limited to {@code ttl} hops, so that it opens
     * mappings in our own NATs without reaching the partner's (see {@link Traversal#openerTtl()}).
     * An edge that cannot limit the TTL must not send it at full TTL: the default drops it.
     *
     * @return true if the datagram was sent with that TTL
     */
    default boolean sendWithTtl(InetSocketAddress to, ByteBuffer datagram, int ttl) {
        return false;
    }

    /**
     * Opens {@code n} spare UDP sockets on fresh local ports, ids 1..n, replacing any still open,
     * and delivers what arrives on them with their id.
     *
     * @return how many the edge opened (ids 1..that); 0 when it cannot (the default), and then
     *     the machine does not punch that way
     */
    default int openSpareSockets(int n) {
        return 0;
    }

    /**
     * Sends a datagram from socket {@code socket} (0 = the main socket), with the IP TTL limited
     * to {@code ttl} hops, or with the system's default TTL when {@code ttl} is 0. As with
     * {@link #sendWithTtl}, a datagram whose TTL cannot be limited is not sent at all.
     *
     * @return true if it was sent (with that TTL); false if nothing was sent (no such socket, or
     *     the TTL cannot be limited)
     */
    default boolean sendFrom(int socket, InetSocketAddress to, ByteBuffer datagram, int ttl) {
        if (socket != 0) {
            return false;
        }
        if (ttl == 0) {
            send(to, datagram);
            return true;
        }
        return sendWithTtl(to, datagram, ttl);
    }

    /**
     * True when datagrams to {@code address} would travel inside our own tunnel: it is an address
     * of our TUN device or the partner's tunnel address, or the kernel routes it through our TUN
     * device. The machine never probes such an address and never takes it as a path (the tunnel
     * would carry itself). The default (an edge without a TUN device) says false.
     */
    default boolean throughTunnel(InetSocketAddress address) {
        return false;
    }

    /**
     * Closes every spare socket except {@code keep} (0 = close them all). Closing ones already
     * closed does nothing.
     */
    default void closeSpareSockets(int keep) {
    }
}
