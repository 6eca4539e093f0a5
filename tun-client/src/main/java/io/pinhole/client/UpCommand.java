package io.pinhole.client;

import io.pinhole.client.privilege.PrivilegeDrop;
import io.pinhole.client.privilege.PrivilegeException;
import io.pinhole.client.privilege.PrivilegePlan;
import io.pinhole.client.privilege.UserAccount;
import io.pinhole.client.tun.SocketDevice;
import io.pinhole.client.tun.SocketOptionException;
import io.pinhole.client.tun.InterfaceName;
import io.pinhole.client.tun.TunDevice;
import io.pinhole.client.tun.TunException;
import io.pinhole.config.FileErrors;
import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import io.pinhole.config.KeyFileException;
import io.pinhole.config.KeyFiles;
import io.pinhole.crypto.KeyFormatException;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.peer.AllowedIps;
import io.pinhole.peer.PeerConfig;
import io.pinhole.peer.PeerMachine;
import io.pinhole.peer.PeerTimers;
import io.pinhole.peer.Traversal;
import io.pinhole.wireguard.SessionTimers;
import java.time.Clock;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * UpCommand: {@code pinhole up}: opens the TUN device, finds the peer (through the rendezvous
 * server and hole punching; or at a static {@code --peer-endpoint}; or by waiting to be
 * contacted), drops its privileges ({@code --user}, {@link PrivilegePlan}), runs WireGuard with it
 * and carries IP packets until SIGTERM or Ctrl-C, then leaves,
 * removes the device and exits 0. Bad arguments exit 2 (among them a {@code --dev} that is no
 * interface name, and a key file that is unreadable or that group or others can read); a failure
 * to set up exits 1; each with one line saying what is wrong and what to do.
 */
@Command(name = "up", description = "Bring the tunnel up and keep it up until stopped.",
        defaultValueProvider = UpCommand.Defaults.class)
final class UpCommand implements Callable<Integer> {
    private static final Pattern IPV4 = Pattern.compile(
            "((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");
    static final int DEFAULT_MTU = 1420;
    /**
     * SO_RCVBUF and SO_SNDBUF asked for the UDP socket (the kernel doubles it, and caps it at
     * net.core.rmem_max/wmem_max): 1 MB holds about 5 ms at 1.6 Gb/s. It was 4 MB, and a full one
     * queued the tunnel's packets for tens of ms under load (issue 10). System property
     * {@code pinhole.udpBufferBytes} overrides it (for bench/compare.sh, say).
     */
    static final int UDP_BUFFER_BYTES = Integer.getInteger("pinhole.udpBufferBytes", 1 << 20);
    /** The TUN device's transmit queue, in packets: {@link TunDevice#DEFAULT_TX_QUEUE_LENGTH}, or system property {@code pinhole.tunTxQueueLength}. */
    static final int TUN_TX_QUEUE_LENGTH = Integer.getInteger("pinhole.tunTxQueueLength", TunDevice.DEFAULT_TX_QUEUE_LENGTH);

    @Option(names = "--rendezvous", paramLabel = "HOST:PORT",
            description = "The rendezvous server through which the peers find each other (default: none: "
                    + "static mode with --peer-endpoint, or listen only).")
    String rendezvous;

    @Option(names = "--rendezvous-key", paramLabel = "PUBKEY",
            description = "The rendezvous server's public key (its log shows it); registrations go only to a "
                    + "server holding the matching private key (default: trust the first key the server presents, "
                    + "for as long as this runs, and refuse any other).")
    String rendezvousKey;

    @Option(names = "--peer-endpoint", paramLabel = "HOST:PORT",
            description = "Contact the peer directly at this UDP endpoint, with no rendezvous (static mode; the "
                    + "peer may be a plain WireGuard peer). Without it and without --rendezvous, only listen "
                    + "(default: none).")
    String peerEndpoint;

    @Option(names = "--preshared-key", paramLabel = "FILE",
            description = "WireGuard pre-shared key file (from `pinhole genpsk` or `wg genpsk`); both sides need it; "
                    + "only its owner may read it (default: none).")
    Path presharedKeyFile;

    @Option(names = "--private-key", required = true, paramLabel = "FILE",
            description = "File holding this peer's private key (from `pinhole genkey`); only its owner may read "
                    + "it (required).")
    Path privateKeyFile;

    @Option(names = "--peer", required = true, paramLabel = "PUBKEY",
            description = "The other peer's public key (required).")
    String peer;

    @Option(names = "--dev", defaultValue = "tun0", paramLabel = "NAME",
            description = "TUN device to create: at most 15 characters, no '/', ':' or whitespace "
                    + "(default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--local", required = true, paramLabel = "IPV4",
            description = "This end's tunnel address (required).")
    String local;

    @Option(names = "--remote", required = true, paramLabel = "IPV4",
            description = "The other end's tunnel address (required).")
    String remote;

    @Option(names = "--allowed-ips", paramLabel = "CIDR[,CIDR...]",
            description = "Networks behind the peer (site-to-site), IPv4 or IPv6, comma-separated: packets from the "
                    + "peer may come from them and packets to them go to the peer; pinhole routes them through the "
                    + "device. Every other source is dropped (default: only --remote/32; IPv6 is on on the device "
                    + "exactly when an IPv6 network is given).")
    String allowedIps;

    @Option(names = "--mtu", defaultValue = "" + DEFAULT_MTU, paramLabel = "N",
            description = "Tunnel MTU, 576-9000 (default: ${DEFAULT-VALUE}).")
    int mtu;

    @Option(names = "--listen-port", defaultValue = "0", paramLabel = "N",
            description = "Local UDP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int listenPort;

    @Option(names = "--no-relay",
            description = "Never carry the tunnel through the rendezvous server's relay: direct paths only "
                    + "(default: off).")
    boolean noRelay;

    @Option(names = "--no-offload",
            description = "Do not ask the kernel for TUN offloads (virtio header, checksum, TSO, USO): read and write "
                    + "one IP packet per system call (default: off; offloads are used where the kernel has them).")
    boolean noOffload;

    @Option(names = "--no-birthday",
            description = "Never try birthday punching (256 spare UDP sockets and up to 2,048 probes per attempt, "
                    + "for a peer behind a symmetric NAT); such a pair then stays on the relay (default: off).")
    boolean noBirthday;

    @Option(names = "--opener-ttl", paramLabel = "N",
            description = "Before punching, open our own NAT's mapping with a datagram of this IP TTL, which dies "
                    + "before the partner's NAT; 1-255, 0 turns openers off (default: ${DEFAULT-VALUE}).")
    int openerTtl;

    @Option(names = "--underlay", paramLabel = "DEVICE", defaultValue = Underlay.AUTO,
            description = "Network device that carries pinhole's own UDP (SO_BINDTODEVICE), so that no route through "
                    + "the tunnel (a routed network, a default route) can capture it: auto = the device of the route to "
                    + "the rendezvous server or --peer-endpoint at start (not bound when only listening), none = do "
                    + "not bind (default: ${DEFAULT-VALUE}).")
    String underlay;

    @Option(names = "--status-file", paramLabel = "PATH",
            description = "Where to write the tunnel's state once a second, for `pinhole status` "
                    + "(default: /run/pinhole/<dev>.status).")
    Path statusFile;

    @Option(names = "--user", paramLabel = "NAME",
            description = "Once the device, its routes and the sockets are set up, run as this user, with no "
                    + "capabilities and no-new-privs, so that no packet is parsed with privileges; root stays root (not "
                    + "advised). Started as another user, pinhole drops only its capabilities (default: "
                    + PrivilegePlan.DEFAULT_USER + " when started as root).")
    String user;

    @Option(names = {"-v", "--verbose"}, description = "Log debug detail (default: off).")
    boolean verbose;

    @Spec
    CommandSpec spec;

    /** Defaults that come from the core's own choices ({@link Traversal#defaults()}), so they cannot drift. */
    static final class Defaults implements CommandLine.IDefaultValueProvider {
        @Override
        public String defaultValue(ArgSpec arg) {
            if (arg instanceof OptionSpec option && option.longestName().equals("--opener-ttl")) {
                return Integer.toString(Traversal.defaults().openerTtl());
            }
            return null;
        }
    }

    /** A setup failure with the exit code it deserves and a message for the user. */
    static final class SetupException extends Exception {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        SetupException(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (verbose) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        }
        try {
            return run();
        } catch (SetupException e) {
            System.err.println("pinhole up: " + e.getMessage());
            return e.exitCode;
        }
    }

    private int run() throws SetupException, InterruptedException {
        CryptoWarmUp.start(); // compiles the AEAD while the device, socket and rendezvous are set up
        if (!InterfaceName.isValid(device)) {
            throw new SetupException(PinholeMain.USAGE, "--dev '" + visible(device) + "' is not a valid interface "
                    + "name (at most 15 characters, no '/', ':' or whitespace)");
        }
        NoisePrivateKey key;
        byte[] psk;
        try {
            key = KeyFiles.privateKey(privateKeyFile);
            psk = presharedKeyFile == null ? null : KeyFiles.presharedKey(presharedKeyFile);
        } catch (KeyFileException e) {
            throw new SetupException(PinholeMain.USAGE, e.getMessage());
        }
        NoisePublicKey peerKey = parsePeer(peer);
        if (peerKey.equals(key.publicKey())) {
            throw new SetupException(PinholeMain.USAGE, "--peer is this peer's own public key; "
                    + "give the other peer's key (`pinhole pubkey < other.key`)");
        }
        Inet4Address localAddress = ipv4("--local", local);
        Inet4Address remoteAddress = ipv4("--remote", remote);
        if (localAddress.equals(remoteAddress)) {
            throw new SetupException(PinholeMain.USAGE, "--local and --remote must differ");
        }
        List<AllowedIps.Network> routed = allowedIps == null ? List.of() : allowedNetworks(allowedIps);
        AllowedIps allowed = AllowedIps.of(List.of(new AllowedIps.Network(remoteAddress, 32))).with(routed);
        if (mtu < 576 || mtu > 9000) {
            throw new SetupException(PinholeMain.USAGE, "--mtu " + mtu + " is out of range 576-9000");
        }
        if (listenPort < 0 || listenPort > 65_535) {
            throw new SetupException(PinholeMain.USAGE, "--listen-port " + listenPort + " is out of range 0-65535");
        }
        if (rendezvous != null && peerEndpoint != null) {
            throw new SetupException(PinholeMain.USAGE, "--rendezvous and --peer-endpoint exclude each other: "
                    + "use the server to find the peer, or give its endpoint");
        }
        if (rendezvousKey != null && rendezvous == null) {
            throw new SetupException(PinholeMain.USAGE, "--rendezvous-key needs --rendezvous");
        }
        if (openerTtl < 0 || openerTtl > 255) {
            throw new SetupException(PinholeMain.USAGE, "--opener-ttl " + openerTtl
                    + " is out of range 0-255 (0 turns openers off)");
        }
        if (rendezvous == null && noRelay) {
            throw new SetupException(PinholeMain.USAGE, "--no-relay needs --rendezvous: only the rendezvous server "
                    + "relays");
        }
        checkUnderlay();
        if (rendezvous == null && noBirthday) {
            throw new SetupException(PinholeMain.USAGE, "--no-birthday needs --rendezvous: birthday punching is part "
                    + "of hole punching");
        }
        if (rendezvous == null && given("--opener-ttl")) {
            throw new SetupException(PinholeMain.USAGE, "--opener-ttl needs --rendezvous: openers are part of hole "
                    + "punching");
        }
        if (statusFile != null) {
            checkStatusFile(statusFile);
        }
        int euid = PrivilegeDrop.euid();
        long permitted = PrivilegeDrop.permitted();
        plan(euid, permitted, rendezvous != null && !noBirthday && !underlay.equals(Underlay.NONE));
        NoisePublicKey serverKey = null;
        if (rendezvousKey != null) {
            try {
                serverKey = NoisePublicKey.parse(rendezvousKey);
            } catch (KeyFormatException e) {
                throw new SetupException(PinholeMain.USAGE, "--rendezvous-key: " + e.getMessage());
            }
        }
        InetSocketAddress server = rendezvous == null ? null : endpoint("--rendezvous", rendezvous);
        InetSocketAddress staticPeer = peerEndpoint == null ? null : endpoint("--peer-endpoint", peerEndpoint);

        Logger log = LoggerFactory.getLogger(LogNames.CLIENT);
        log.info("pinhole up on {}", io.pinhole.config.JavaRuntime.describe());
        TunDevice tun;
        try {
            tun = TunDevice.open(device, !noOffload);
        } catch (TunException e) {
            throw new SetupException(1, e.getMessage());
        }
        if (noOffload) {
            log.info("{}: TUN offloads off (--no-offload): one IP packet per read and write", tun.name());
        } else if (tun.segmentationOffload()) {
            log.info("{}: TUN offloads on: {} (reads of up to 64 KB split here, TCP segments coalesced on write)",
                    tun.name(), TunDevice.describeOffloads(tun.offloads()));
        } else {
            log.info("{}: TUN offloads: {} (the kernel has no TSO for TUN: one IP packet per read)", tun.name(),
                    TunDevice.describeOffloads(tun.offloads()));
        }
        DatagramChannel udp = null;
        try {
            Path status = statusFile != null ? statusFile : defaultStatusFile(tun.name());
            boolean ipv6Set = tun.ipv6(allowed.hasIpv6()); // off: no IPv6 address, no router solicitations
            tun.configure(localAddress, remoteAddress, mtu, TUN_TX_QUEUE_LENGTH);
            for (AllowedIps.Network network : routed) {
                if (!network.equals(new AllowedIps.Network(remoteAddress, 32))) {
                    tun.addRoute(network.address(), network.prefix());
                }
            }
            log.info("{}: the peer's allowed IPs are {} (other sources are dropped){}{}", tun.name(), allowed,
                    routed.isEmpty() ? "" : "; routed through " + tun.name() + ": " + AllowedIps.of(routed),
                    !ipv6Set ? "; the kernel has no IPv6" : allowed.hasIpv6() ? "" : "; IPv6 off on " + tun.name());
            udp = openSocket(server != null ? server : staticPeer);
            String boundTo = bindUnderlay(udp, tun.name(), server != null ? server : staticPeer, log);
            int port = ((InetSocketAddress) udp.getLocalAddress()).getPort();
            List<InetSocketAddress> candidates = server == null ? List.of()
                    : LanCandidates.discover(port, tun.name(), boundTo);
            log.info("{} up: {} -> {} mtu {}; udp port {}; this peer is {}; WireGuard{}", tun.name(), local, remote,
                    mtu, port, key.publicKey(), psk != null ? " with pre-shared key" : "");
            if (server == null && staticPeer == null) {
                log.info("no --rendezvous and no --peer-endpoint: waiting for peer {} to contact udp port {}",
                        peerKey.shortId(), port);
                if (listenPort == 0) {
                    log.warn("--listen-port is 0 (random): the peer cannot know where to reach this side");
                }
            }
            Traversal traversal = Traversal.defaults().withRelay(!noRelay).withOpenerTtl(openerTtl)
                    .withBirthday(!noBirthday);
            PeerConfig config = new PeerConfig(key, peerKey, psk, server, serverKey, staticPeer, candidates,
                    PeerTimers.defaults(), SessionTimers.defaults().withMtu(mtu), traversal, allowed);
            if (psk != null) {
                Arrays.fill(psk, (byte) 0); // the config holds its own copy
            }
            if (server != null) {
                log.info("relay {}, {}, birthday punching {}", noRelay ? "off" : "on",
                        openerTtl == 0 ? "no openers" : "TTL-" + openerTtl + " openers", noBirthday ? "off" : "on");
            }
            log.info("status in {} (pinhole status reads it)", status);
            SecureRandom random = new SecureRandom();
            PeerMachine machine = new PeerMachine(config, random.nextLong() | 1, random, Clock.systemUTC());
            // A bound socket's datagrams leave through its device whatever the routes say; an unbound one's follow them.
            TunnelRoutes routes = new TunnelRoutes(tun.name(), java.util.Set.of(localAddress, remoteAddress),
                    boundTo != null ? address -> boundTo : Underlay::routeDevice, System::nanoTime);
            ClientRuntime runtime = new ClientRuntime(machine, udp, tun, mtu, System::nanoTime, status,
                    routes::throughTunnel, boundTo);
            dropPrivileges(plan(euid, permitted, server != null && !noBirthday && boundTo != null), log);
            for (String signal : new String[] {"TERM", "INT"}) {
                sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> {
                    log.info("SIG{}: leaving", signal);
                    runtime.stop();
                });
            }
            runtime.start();
            runtime.awaitStopped();
            // Stopped: the machine left (CLOSED, its WireGuard keys zeroed) and uses the key no more.
            key.destroy();
            return runtime.failed() ? 1 : 0;
        } catch (TunException e) {
            tun.close();
            closeQuietly(udp);
            throw new SetupException(1, e.getMessage());
        } catch (IOException e) {
            tun.close();
            closeQuietly(udp);
            throw new SetupException(1, "UDP socket: " + e.getMessage());
        } catch (SetupException e) {
            tun.close();
            closeQuietly(udp);
            throw e;
        }
    }

    /** What to give up after set-up ({@code --user}); a usage error for a bad one. */
    private PrivilegePlan plan(int euid, long permitted, boolean bindsLater) throws SetupException {
        try {
            return PrivilegePlan.decide(euid, user, UserAccount::lookup, permitted, System.getProperty("os.version"),
                    bindsLater);
        } catch (PrivilegeException e) {
            throw new SetupException(e.usage() ? PinholeMain.USAGE : 1, e.getMessage());
        }
    }

    /** Carries out {@code plan} and says what this process now runs as; a failure ends the set-up (exit 1). */
    private static void dropPrivileges(PrivilegePlan plan, Logger log) throws SetupException {
        PrivilegeDrop.Outcome now;
        try {
            now = PrivilegeDrop.apply(plan);
        } catch (PrivilegeException e) {
            throw new SetupException(1, e.getMessage());
        }
        String kept = plan.keep() == 0 ? "no capabilities" : "only " + PrivilegePlan.capabilityNames(plan.keep())
                + " (" + plan.why() + ")";
        switch (plan.action()) {
            case SWITCH_USER -> log.info("running as user {} from now on, with {} and no-new-privs: no packet is "
                    + "parsed as root", plan.user(), kept);
            case DROP_CAPABILITIES -> log.info("running with {} from now on (uid {}), and no-new-privs", kept,
                    now.self().uids()[1]);
            case NONE -> log.warn("{}; give --user NAME (default {}) to drop privileges after set-up", plan.why(),
                    PrivilegePlan.DEFAULT_USER);
        }
        if (plan.action() != PrivilegePlan.Action.NONE && now.withoutNoNewPrivs() > 0) {
            log.warn("{} of the JVM's {} threads, started before set-up, lack no-new-privs (Linux keeps it per thread; "
                    + "pinhole's own threads have it): start through bin/pinhole, or `setpriv --no-new-privs java ...`, "
                    + "to set it for the whole process", now.withoutNoNewPrivs(), now.threads());
        }
        if (now.withCapabilities() > 0) {
            log.warn("{} of the JVM's {} threads, started before set-up, keep their capabilities (Linux keeps them per "
                    + "thread and only a switch away from root clears them all): start pinhole as root, or give it the "
                    + "capabilities only for the set-up", now.withCapabilities(), now.threads());
        }
    }

    /** The networks of {@code --allowed-ips}, or a usage error naming the first bad one. */
    private static List<AllowedIps.Network> allowedNetworks(String list) throws SetupException {
        try {
            return AllowedIps.parse(list).networks();
        } catch (IllegalArgumentException e) {
            throw new SetupException(PinholeMain.USAGE, "--allowed-ips " + visible(e.getMessage()));
        }
    }

    /** Refuses a {@code --status-file} whose directory does not exist, or that is a directory. */
    private static void checkStatusFile(Path file) throws SetupException {
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new SetupException(PinholeMain.USAGE, "--status-file " + file + ": directory " + dir
                    + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new SetupException(PinholeMain.USAGE, "--status-file " + file + " is a directory; give a file");
        }
    }

    /** {@code /run/pinhole/<device>.status}, creating {@code /run/pinhole} (0755) if missing. */
    private static Path defaultStatusFile(String device) throws SetupException {
        Path dir = StatusFile.DEFAULT_DIR;
        if (!Files.isDirectory(dir)) {
            try {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (IOException e) {
                throw new SetupException(1, "cannot create " + dir + " for the status file: " + FileErrors.reason(e)
                        + " (give another place with --status-file)");
            }
        }
        return StatusFile.defaultPath(device, NetNamespace.current(), NetNamespace.initial());
    }

    private DatagramChannel openSocket(InetSocketAddress server) throws SetupException {
        DatagramChannel udp = null;
        try {
            udp = DatagramChannel.open(server == null || server.getAddress() instanceof Inet4Address
                    ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
            udp.setOption(StandardSocketOptions.SO_RCVBUF, UDP_BUFFER_BYTES);
            udp.setOption(StandardSocketOptions.SO_SNDBUF, UDP_BUFFER_BYTES);
            udp.bind(new InetSocketAddress(listenPort));
            return udp;
        } catch (BindException e) {
            closeQuietly(udp);
            throw new SetupException(1, "cannot use UDP port " + listenPort + ": " + e.getMessage()
                    + " (another process has it? pick another --listen-port, or 0)");
        } catch (IOException e) {
            closeQuietly(udp);
            throw new SetupException(1, "cannot open a UDP socket: " + e.getMessage());
        }
    }

    /** Refuses, before anything is opened, an {@code --underlay} that names no network device here. */
    private void checkUnderlay() throws SetupException {
        if (underlay.equals(Underlay.AUTO) || underlay.equals(Underlay.NONE)) {
            return;
        }
        boolean exists;
        try {
            exists = java.net.NetworkInterface.getByName(underlay) != null;
        } catch (java.net.SocketException | IllegalArgumentException e) {
            exists = false;
        }
        if (!exists || underlay.equals(device)) {
            throw new SetupException(PinholeMain.USAGE, "--underlay " + underlay + (exists
                    ? " is the tunnel device itself; give the device that reaches the server (or auto)"
                    : ": no such network device here (give one that `ip link` lists, auto or none)"));
        }
    }

    /**
     * Binds the UDP socket to the underlay device ({@code --underlay}), so that no route through
     * the tunnel can capture pinhole's own datagrams.
     *
     * @return the device bound to, or null when not bound
     * @throws SetupException for a device that does not exist or is the tunnel itself, or when a
     *     device given by name cannot be bound
     */
    private String bindUnderlay(DatagramChannel udp, String tunName, InetSocketAddress target, Logger log)
            throws SetupException {
        if (underlay.equals(Underlay.NONE)) {
            log.info("udp socket not bound to a device (--underlay none): routes through {} could capture it", tunName);
            return null;
        }
        boolean auto = underlay.equals(Underlay.AUTO);
        String device = auto ? Underlay.routeDevice(target) : underlay;
        if (device == null) {
            log.info("udp socket not bound to a device ({}): give --underlay DEVICE to keep it off the tunnel",
                    target == null ? "only listening" : "no route to " + HostPort.format(target) + " at start");
            return null;
        }
        if (device.equals(tunName)) { // a named device was checked before anything was opened (checkUnderlay)
            throw new SetupException(auto ? 1 : PinholeMain.USAGE, (auto ? "the route to " + HostPort.format(target)
                    : "--underlay") + " goes through " + tunName + ", the tunnel itself; give --underlay DEVICE");
        }
        try {
            SocketDevice.bind(udp, device);
        } catch (SocketOptionException e) {
            if (!auto) {
                throw new SetupException(1, e.getMessage());
            }
            log.warn("{}; pinhole's UDP follows the routing table: do not route the peers' or the server's "
                    + "addresses through {}", e.getMessage(), tunName);
            return null;
        }
        log.info("udp socket bound to {}{}: routes through {} cannot capture it", device,
                auto ? " (the route to " + HostPort.format(target) + ")" : "", tunName);
        return device;
    }

    /** True when {@code option} was on the command line (not just defaulted). */
    private boolean given(String option) {
        return spec != null && spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    private static InetSocketAddress endpoint(String option, String text) throws SetupException {
        try {
            return resolve(HostPort.parse(text, false));
        } catch (IllegalArgumentException e) {
            throw new SetupException(PinholeMain.USAGE, option + " " + e.getMessage());
        } catch (SetupException e) {
            throw new SetupException(e.exitCode, option + ": " + e.getMessage());
        }
    }

    private static NoisePublicKey parsePeer(String text) throws SetupException {
        try {
            return NoisePublicKey.parse(text);
        } catch (KeyFormatException e) {
            throw new SetupException(PinholeMain.USAGE, "--peer: " + e.getMessage());
        }
    }

    private static Inet4Address ipv4(String option, String text) throws SetupException {
        if (text == null || !IPV4.matcher(text.strip()).matches()) {
            throw new SetupException(PinholeMain.USAGE, option + " '" + text + "' is not an IPv4 address like 10.10.0.1");
        }
        try {
            return (Inet4Address) InetAddress.getByName(text.strip()); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetSocketAddress resolve(InetSocketAddress unresolved) throws SetupException {
        try {
            return new InetSocketAddress(InetAddress.getByName(unresolved.getHostString()), unresolved.getPort());
        } catch (UnknownHostException e) {
            throw new SetupException(1, "cannot resolve host '" + unresolved.getHostString() + "'");
        }
    }

    /** {@code text} with control characters shown as '?', so that a message stays one line. */
    private static String visible(String text) {
        return text.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }

    private static void closeQuietly(DatagramChannel udp) {
        if (udp != null) {
            try {
                udp.close();
            } catch (IOException ignored) {
                // nothing more to do
            }
        }
    }
}
