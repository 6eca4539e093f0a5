package io.pinhole.client;

import io.pinhole.client.tun.SocketDevice;
import io.pinhole.client.tun.SocketTtl;
import io.pinhole.config.LogNames;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SpareSockets: the client's spare UDP sockets for birthday punching
 * ({@link io.pinhole.peer.PeerOutput#openSpareSockets}): up to a few hundred non-blocking
 * {@link DatagramChannel}s, ids 1..n, each bound to a fresh local port on the main socket's
 * address, and one thread, {@code pinhole-spare-udp}, that waits on all of them with a
 * {@link Selector} and hands each datagram to the {@link Receiver} with its socket's id.
 *
 * <p>Thread-safety: {@link #open}, {@link #sendFrom}, {@link #closeExcept} and {@link #close}
 * are synchronized; the runtime calls the first three from inside calls into the machine (its
 * lock held). The receive thread holds no lock of this class while it calls the receiver, which
 * takes the runtime's lock, so the two cannot deadlock; channels opened meanwhile are registered
 * by that thread (a queue and {@link Selector#wakeup()}).
 *
 * <p>Lifecycle: the thread starts with the first {@link #open}; {@link #close} closes every
 * channel and the selector and joins the thread (idempotent). Error contract: nothing throws
 * into the caller: a socket that cannot be opened ends the opening (the count says how many
 * were); each socket sends through its own {@link UdpSender}, the main socket's sending stack, and
 * a failed send is counted and logged at most every 10 s for all of them together; a failure of the receive thread
 * goes to the {@code onFailure} callback once.
 */
final class SpareSockets implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogNames.CLIENT);

    /** Receives what arrives on spare socket {@code socket}. */
    @FunctionalInterface
    interface Receiver {
        void receive(int socket, InetSocketAddress from, ByteBuffer datagram);
    }

    private final InetAddress bindAddress;
    private final String device;
    private final Receiver receiver;
    private final java.util.function.Consumer<Exception> onFailure;
    private final Map<Integer, DatagramChannel> open = new HashMap<>();
    /** Each spare socket's sender: the same sending stack as the main socket's. */
    private final Map<Integer, UdpSender> senders = new HashMap<>();
    /** The failures of all spare sockets together. */
    private final UdpSender.SendLog sendLog = new UdpSender.SendLog(" on spare sockets",
            "TTL-limited probes are not sent from the spare sockets", System::nanoTime);
    private final ConcurrentLinkedQueue<Map.Entry<Integer, DatagramChannel>> toRegister = new ConcurrentLinkedQueue<>();
    private Selector selector;
    private Thread thread;
    private boolean closed;

    /**
     * @param bindAddress the local address to bind to (the main socket's; the wildcard for any)
     * @param device the network device to bind each socket to (the main socket's underlay), or null
     * @param receiver gets every datagram, from the receive thread
     * @param onFailure told once if the receive thread fails unexpectedly
     */
    SpareSockets(InetAddress bindAddress, String device, Receiver receiver,
                 java.util.function.Consumer<Exception> onFailure) {
        this.bindAddress = bindAddress;
        this.device = device;
        this.receiver = receiver;
        this.onFailure = onFailure;
    }

    /**
     * Closes the spare sockets still open and opens {@code n} new ones, ids 1..n.
     *
     * @return how many were opened (fewer than {@code n} when the system refuses more: file
     *     descriptors, ports; 0 after {@link #close})
     */
    synchronized int open(int n) {
        closeExcept(0);
        if (closed || n <= 0) {
            return 0;
        }
        try {
            if (selector == null) {
                selector = Selector.open();
                thread = new Thread(this::receiveLoop, "pinhole-spare-udp");
                thread.setDaemon(true);
                thread.start();
            }
        } catch (IOException e) {
            LOG.warn("no spare sockets for birthday punching: cannot open a selector: {}", e.getMessage());
            return 0;
        }
        for (int id = 1; id <= n; id++) {
            DatagramChannel channel = null;
            try {
                channel = DatagramChannel.open();
                if (device != null) {
                    SocketDevice.bind(channel, device); // off the tunnel, as the main socket
                }
                channel.bind(new InetSocketAddress(bindAddress, 0));
                channel.configureBlocking(false);
            } catch (IOException e) {
                closeQuietly(channel);
                LOG.warn("opened {} of {} spare sockets for birthday punching: {}", id - 1, n, e.toString());
                break;
            }
            open.put(id, channel);
            senders.put(id, new UdpSender(channel, "spare socket " + id, " from spare socket " + id, sendLog,
                    SocketTtl::of));
            toRegister.add(Map.entry(id, channel));
        }
        selector.wakeup();
        return open.size();
    }

    /**
     * Sends from spare socket {@code socket} through its {@link UdpSender}, with the IP TTL limited
     * to {@code ttl} (0: the default), which is safe because every send on a spare socket comes from
     * the machine under the runtime's lock and this method is synchronized. When the TTL cannot be
     * limited, nothing is sent (the caller decides what to do instead).
     *
     * @return true if it was sent; false for a socket that is not open
     */
    synchronized boolean sendFrom(int socket, InetSocketAddress to, ByteBuffer datagram, int ttl) {
        UdpSender sender = senders.get(socket);
        if (sender == null) {
            return false;
        }
        return ttl == 0 ? sender.send(to, datagram) : sender.sendWithTtl(to, datagram, ttl);
    }

    /** Closes every spare socket but {@code keep} (0: all). */
    synchronized void closeExcept(int keep) {
        Iterator<Map.Entry<Integer, DatagramChannel>> it = open.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Integer, DatagramChannel> e = it.next();
            if (e.getKey() != keep) {
                closeQuietly(e.getValue());
                senders.remove(e.getKey());
                it.remove();
            }
        }
        if (selector != null) {
            selector.wakeup(); // the selector lets go of the closed channels' descriptors on its next round
        }
    }

    /** The local address of spare socket {@code socket}, or null if it is not open. */
    synchronized InetSocketAddress localAddress(int socket) {
        DatagramChannel channel = open.get(socket);
        try {
            return channel == null ? null : (InetSocketAddress) channel.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    /** Spare sockets open now. */
    synchronized int openCount() {
        return open.size();
    }

    /** Closes every spare socket and the selector, and joins the receive thread. Idempotent. */
    @Override
    public void close() {
        Thread joining;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            closeExcept(0);
            toRegister.clear();
            joining = thread;
            if (selector != null) {
                try {
                    selector.close();
                } catch (IOException e) {
                    LOG.warn("closing the spare sockets' selector: {}", e.toString());
                }
            }
        }
        if (joining != null && joining != Thread.currentThread()) {
            try {
                joining.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void receiveLoop() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
        try {
            while (true) {
                selector.select();
                registerPending();
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    int id = (Integer) key.attachment();
                    InetSocketAddress from;
                    while (channel.isOpen() && (from = receive(channel, buffer)) != null) {
                        buffer.flip();
                        receiver.receive(id, from, buffer);
                    }
                }
            }
        } catch (ClosedSelectorException e) {
            // closed
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                if (closed) {
                    return;
                }
            }
            onFailure.accept(e);
        }
    }

    /** One datagram from {@code channel} into {@code buffer}, or null when none is waiting or it closed. */
    private static InetSocketAddress receive(DatagramChannel channel, ByteBuffer buffer) throws IOException {
        buffer.clear();
        try {
            return (InetSocketAddress) channel.receive(buffer);
        } catch (ClosedChannelException e) {
            return null; // closed by the machine's thread meanwhile
        }
    }

    private void registerPending() {
        Map.Entry<Integer, DatagramChannel> e;
        while ((e = toRegister.poll()) != null) {
            try {
                e.getValue().register(selector, SelectionKey.OP_READ, e.getKey());
            } catch (ClosedChannelException closedMeanwhile) {
                // closed before it was registered
            }
        }
    }

    private static void closeQuietly(DatagramChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a spare socket: {}", e.toString());
        }
    }
}
