package io.pinhole.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.Ticker;
import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.RendezvousConfig;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RendezvousServer: one UDP socket serving every peer, on Netty's native epoll transport where
 * available (NIO otherwise), with a single event-loop thread that owns the {@link Rendezvous}
 * core. Logs a statistics line every {@code statsInterval} when anything changed (see
 * {@link RendezvousHandler#statsLine()}).
 *
 * <p>Lifecycle: {@link #start} binds (throws if the address cannot be bound), {@link #close}
 * unbinds and stops the thread; close is idempotent. Thread-safe.
 */
public final class RendezvousServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LogNames.RENDEZVOUS);
    /**
     * The largest datagram read whole: the largest RELAY frame a pinhole peer sends. A longer
     * datagram arrives cut to this size (UDP truncates silently); cut, it only shrinks, and if it
     * is relayed its partner drops it as unauthenticated.
     */
    static final int MAX_DATAGRAM = RendezvousConfig.RELAY_LARGEST_FRAME;

    private final EventLoopGroup group;
    private final Channel channel;
    private final RendezvousHandler handler;

    private RendezvousServer(EventLoopGroup group, Channel channel, RendezvousHandler handler) {
        this.group = group;
        this.channel = channel;
        this.handler = handler;
    }

    /**
     * Binds {@code listen} and starts serving.
     *
     * @throws InterruptedException if interrupted while binding
     * @throws java.io.IOException (as a Netty-wrapped exception) if the address cannot be bound
     */
    public static RendezvousServer start(InetSocketAddress listen, RendezvousConfig config, NoisePrivateKey key,
                                         long statsIntervalSeconds) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, io);
        try {
            RendezvousHandler handler = new RendezvousHandler(new Rendezvous(config, key, new SecureRandom()),
                    Ticker.systemTicker());
            Bootstrap bootstrap = new Bootstrap()
                    .group(group)
                    .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                    .option(ChannelOption.SO_RCVBUF, 4 << 20)
                    .option(ChannelOption.SO_SNDBUF, 4 << 20)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM))
                    .handler(handler);
            Channel channel = bootstrap.bind(listen).sync().channel();
            LOG.info("rendezvous listening on udp {} ({} transport), max {} registrations ({} per source), TTL {} s, "
                    + "{} Diffie-Hellmans/s, relay {}; server key {}",
                    HostPort.format((InetSocketAddress) channel.localAddress()), epoll ? "epoll" : "nio",
                    config.maxRegistrations(), config.maxPerSource(), config.registrationTtl().toSeconds(),
                    config.dhPerSecond(), relayText(config)
                            + (config.relayOn() ? ", " + ByteSizes.format(config.relayTotalBytesPerSecond()) + "/s in all"
                            : ""), key.publicKey());
            RendezvousServer server = new RendezvousServer(group, channel, handler);
            channel.eventLoop().scheduleAtFixedRate(handler::expire, 1, 1, TimeUnit.SECONDS);
            if (statsIntervalSeconds > 0) {
                channel.eventLoop().scheduleAtFixedRate(server.statsLogger(), statsIntervalSeconds,
                        statsIntervalSeconds, TimeUnit.SECONDS);
            }
            return server;
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    private Runnable statsLogger() {
        return new Runnable() {
            private String last = "";

            @Override
            public void run() {
                String line = handler.statsLine();
                if (!line.equals(last)) {
                    last = line;
                    LOG.info("{}", line);
                }
            }
        };
    }

    /**
     * The relay's budget as the start line gives it, in the units of the options that set it:
     * {@code 2M/s per peer, burst 256K}; or {@code off}.
     */
    static String relayText(RendezvousConfig config) {
        return config.relayOn() ? ByteSizes.format(config.relayBytesPerSecond()) + "/s per peer, burst "
                + ByteSizes.format(config.relayBurstBytes()) : "off";
    }

    /** The bound address (useful when port 0 was asked for). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Blocks until the socket is closed. */
    public void awaitClose() throws InterruptedException {
        channel.closeFuture().await();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
