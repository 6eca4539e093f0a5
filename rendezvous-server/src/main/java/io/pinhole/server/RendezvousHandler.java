package io.pinhole.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.Ticker;
import io.pinhole.config.LogNames;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.ServerDrop;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RendezvousHandler: the Netty edge of {@link Rendezvous}. Each datagram goes to the core with
 * the ticker's time; replies are written in {@code channelRead} and flushed in
 * {@code channelReadComplete}; inbound buffers are released in {@code finally}.
 *
 * <p>Error contract: a datagram the core cannot use is counted there; an exception from the
 * pipeline is logged and the channel stays open (a UDP server must not close on a bad packet).
 *
 * <p>Not sharable: one instance per channel, used only on that channel's event loop, which also
 * runs {@link #expire()}.
 */
public final class RendezvousHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(LogNames.RENDEZVOUS);

    private final Rendezvous core;
    private final Ticker ticker;
    private long datagrams;

    public RendezvousHandler(Rendezvous core, Ticker ticker) {
        this.core = core;
        this.ticker = ticker;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket packet)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            datagrams++;
            ByteBuf content = packet.content();
            ByteBuffer view = content.nioBufferCount() == 1
                    ? content.nioBuffer()
                    : ByteBuffer.wrap(io.netty.buffer.ByteBufUtil.getBytes(content));
            core.onDatagram(ticker.nanoTime(), packet.sender(), view,
                    (to, reply) -> ctx.write(new DatagramPacket(Unpooled.wrappedBuffer(reply), to)));
        } finally {
            packet.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("error on the rendezvous socket (still serving): {}", cause.toString());
    }

    /** Removes expired registrations; runs on the event loop once a second. */
    void expire() {
        core.expire(ticker.nanoTime());
    }

    /**
     * The statistics line: datagrams, registrations, pairings, challenges, drops with their
     * reasons, then relayed frames and bytes: {@code stats: 120 datagrams, 2 registrations,
     * 1 pairings, 4 challenges, 3 dropped (bad_mac 2, truncated 1), relayed 10 packets (1480 bytes)};
     * then, once any were, the unpaired registrations evicted to make room: {@code , 5 evicted}.
     * Every refusal (quotas, budgets, a full table) is a drop with its reason.
     */
    String statsLine() {
        return "stats: " + datagrams + " datagrams, " + core.registrations() + " registrations, " + core.pairings()
                + " pairings, " + core.challenges() + " challenges, " + core.droppedTotal() + " dropped"
                + reasons(core.drops()) + ", relayed " + core.relayedPackets() + " packets (" + core.relayedBytes()
                + " bytes)" + (core.evictions() > 0 ? ", " + core.evictions() + " evicted" : "");
    }

    /** {@code " (bad_mac 2, truncated 1)"}, in the enum's order; empty when nothing was dropped. */
    private static String reasons(Map<ServerDrop, Long> drops) {
        StringJoiner text = new StringJoiner(", ", " (", ")").setEmptyValue("");
        drops.forEach((drop, n) -> text.add(drop.name().toLowerCase(Locale.ROOT) + " " + n));
        return text.toString();
    }

    Rendezvous core() {
        return core;
    }
}
