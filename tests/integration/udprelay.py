"""A lossy, jittery UDP relay between an SRT caller and castline, since
this kernel has no netem (../shared/FACTS.md): it listens on a free
127.0.0.1 port, opens one upstream socket per client address (so the
server sees each caller as its own peer, as through a NAT), and forwards
both ways, dropping a fraction of the datagrams of each direction (a
seeded random, so a run can be repeated) and delaying each by a random
0..jitter ms (independently: datagrams overtake one another, as real
jitter does). It counts what it forwarded and dropped.

    with UdpRelay(("127.0.0.1", srt_port), loss=0.05, jitter_ms=50) as relay:
        ffmpeg ... srt://127.0.0.1:{relay.port}?streamid=...
        relay.counts()   # {"up": {"forwarded": n, "dropped": n}, "down": {...}}
        relay.blackout(3)  # the link dark: every datagram dropped for 3 s

One thread (selectors) does everything; stop() ends it and closes every
socket. Standard library only. `python3 udprelay.py` runs its self-test.
"""
import heapq
import itertools
import random
import selectors
import socket
import threading
import time
import unittest

MAX_DATAGRAM = 65535
MAX_CLIENTS = 256          # client addresses at once: a bound, not a limit a test meets
MAX_QUEUED = 100000        # datagrams waiting out their delay: bounded memory
BUFFER = 4 << 20           # socket buffers asked for (the kernel caps them): no loss of our own


def datagram_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        s.setsockopt(socket.SOL_SOCKET, option, BUFFER)
    return s


class UdpRelay:
    """upstream: the (host, port) datagrams from clients go to. loss: the
    fraction of datagrams dropped in each direction; jitter_ms: each one is
    held a uniform random 0..jitter_ms; seed: the randoms'."""

    def __init__(self, upstream, loss=0.0, jitter_ms=0.0, seed=1, host="127.0.0.1"):
        if not 0.0 <= loss < 1.0 or jitter_ms < 0:
            raise ValueError("loss in [0, 1), jitter_ms >= 0")
        self.upstream = upstream
        self.loss, self.jitter = loss, jitter_ms / 1000.0
        self.random = {"up": random.Random(seed), "down": random.Random(seed + 1)}
        self.lock = threading.Lock()
        self._counts = {d: {"forwarded": 0, "dropped": 0} for d in ("up", "down")}
        self.dark_until = 0.0  # blackout()
        self.listener = datagram_socket()
        self.listener.bind((host, 0))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.clients = {}      # client address: its upstream socket
        self.queue = []        # heap of (due, seq, socket, data, address or None)
        self.seq = itertools.count()
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.wake_r, self.wake_w = socket.socketpair()
        self.selector.register(self.wake_r, selectors.EVENT_READ, "stop")
        self.thread = threading.Thread(target=self._run, name="udprelay", daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def counts(self):
        """{"up": {"forwarded", "dropped"}, "down": {...}}: up is client to
        server, down server to client."""
        with self.lock:
            return {d: dict(c) for d, c in self._counts.items()}

    def blackout(self, seconds):
        """Drops every datagram, both ways, for the next seconds (counted
        as dropped): a link that goes dark, then comes back."""
        with self.lock:
            self.dark_until = time.monotonic() + seconds

    def stop(self):
        """Ends the thread (datagrams still held are dropped, uncounted)
        and closes every socket; idempotent."""
        if self.thread.is_alive():
            self.wake_w.send(b"x")
            self.thread.join(10)
        for s in [self.listener, self.wake_r, self.wake_w, *self.clients.values()]:
            s.close()
        self.clients.clear()
        self.selector.close()

    def _hold(self, direction, sock, data, address):
        """Drops data or queues it for its time."""
        rnd = self.random[direction]
        dropped = rnd.random() < self.loss
        with self.lock:
            dropped = dropped or time.monotonic() < self.dark_until
            self._counts[direction]["dropped" if dropped else "forwarded"] += 1
        if dropped:
            return
        if len(self.queue) >= MAX_QUEUED:
            with self.lock:
                self._counts[direction]["forwarded"] -= 1
                self._counts[direction]["dropped"] += 1
            return
        due = time.monotonic() + rnd.uniform(0.0, self.jitter)
        heapq.heappush(self.queue, (due, next(self.seq), sock, data, address))

    def _upstream_for(self, address):
        up = self.clients.get(address)
        if up is None and len(self.clients) < MAX_CLIENTS:
            up = datagram_socket()
            up.connect(self.upstream)
            up.setblocking(False)
            self.selector.register(up, selectors.EVENT_READ, address)
            self.clients[address] = up
        return up

    def _read(self, sock, client):
        """Every datagram waiting on sock: from a client (client None: the
        listener) or from the server to client."""
        while True:
            try:
                data, address = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return      # ICMP port unreachable on a connected socket: the server is not there yet
            if client is None:
                up = self._upstream_for(address)
                if up is not None:
                    self._hold("up", up, data, None)
            else:
                self._hold("down", self.listener, data, client)

    def _send_due(self):
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            _, _, sock, data, address = heapq.heappop(self.queue)
            try:
                if address is None:
                    sock.send(data)
                else:
                    sock.sendto(data, address)
            except OSError:
                pass        # a full buffer or an unreachable peer: lost, as on a network

    def _run(self):
        while True:
            timeout = max(0.0, self.queue[0][0] - time.monotonic()) if self.queue else None
            for key, _ in self.selector.select(timeout):
                if key.data == "stop":
                    return
                self._read(key.fileobj, key.data)
            self._send_due()


class SelfTest(unittest.TestCase):
    """The relay against an echo server of its own."""

    def setUp(self):
        self.echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.echo.bind(("127.0.0.1", 0))
        self.peers = set()
        self.running = True

        def serve():
            self.echo.settimeout(0.1)
            while self.running:
                try:
                    data, address = self.echo.recvfrom(MAX_DATAGRAM)
                except socket.timeout:
                    continue
                except OSError:
                    return
                self.peers.add(address)
                self.echo.sendto(data, address)
        self.server = threading.Thread(target=serve, daemon=True)
        self.server.start()

    def tearDown(self):
        self.running = False
        self.server.join(5)
        self.echo.close()

    def client(self, relay):
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.connect(("127.0.0.1", relay.port))
        c.settimeout(0.5)
        self.addCleanup(c.close)
        return c

    @staticmethod
    def exchange(c, count, pace=0.0):
        """Sends count numbered datagrams; the numbers echoed back, in the
        order they came (read meanwhile: a socket's buffer holds about 150)."""
        got = []

        def read():
            while True:
                try:
                    got.append(int.from_bytes(c.recv(MAX_DATAGRAM)[:4], "big"))
                except (socket.timeout, OSError):
                    return
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        for i in range(count):
            c.send(i.to_bytes(4, "big") * 100)
            if pace:
                time.sleep(pace)
        reader.join(30)
        return got

    def test_forwards_both_ways_in_order_without_loss_or_jitter(self):
        with UdpRelay(self.echo.getsockname()) as relay:
            got = self.exchange(self.client(relay), 200, pace=0.0005)
            self.assertEqual(got, list(range(200)))
            self.assertEqual(relay.counts(), {"up": {"forwarded": 200, "dropped": 0},
                                              "down": {"forwarded": 200, "dropped": 0}})

    def test_drops_the_fraction_asked_and_counts_it(self):
        with UdpRelay(self.echo.getsockname(), loss=0.2, seed=7) as relay:
            got = self.exchange(self.client(relay), 1000, pace=0.0002)
            counts = relay.counts()
        up, down = counts["up"], counts["down"]
        self.assertEqual(up["forwarded"] + up["dropped"], 1000)
        self.assertEqual(down["forwarded"] + down["dropped"], up["forwarded"])
        self.assertEqual(len(got), down["forwarded"], "a datagram counted forwarded went missing")
        for c in (up, down):
            rate = c["dropped"] / (c["dropped"] + c["forwarded"])
            self.assertAlmostEqual(rate, 0.2, delta=0.06)

    def test_jitter_reorders_and_delivers_everything(self):
        with UdpRelay(self.echo.getsockname(), jitter_ms=30) as relay:
            got = self.exchange(self.client(relay), 300, pace=0.0005)
        self.assertEqual(sorted(got), list(range(300)))
        self.assertNotEqual(got, list(range(300)), "no datagram overtook another")

    def test_blackout_drops_everything_for_its_time(self):
        with UdpRelay(self.echo.getsockname()) as relay:
            c = self.client(relay)
            relay.blackout(0.5)
            self.assertEqual(self.exchange(c, 5), [])
            time.sleep(0.6)
            self.assertEqual(self.exchange(c, 3), [0, 1, 2])
            self.assertEqual(relay.counts()["up"], {"forwarded": 3, "dropped": 5})

    def test_one_upstream_socket_per_client(self):
        with UdpRelay(self.echo.getsockname()) as relay:
            a, b = self.client(relay), self.client(relay)
            self.assertEqual(self.exchange(a, 3), [0, 1, 2])
            self.assertEqual(self.exchange(b, 2), [0, 1])
            self.assertEqual(len(self.peers), 2, self.peers)

    def test_stop_ends_the_thread_and_closes_the_sockets(self):
        relay = UdpRelay(self.echo.getsockname(), jitter_ms=1000)
        self.exchange(self.client(relay), 5)      # held for up to 1 s: stop does not wait them out
        relay.stop()
        self.assertFalse(relay.thread.is_alive())
        self.assertEqual(relay.listener.fileno(), -1)
        relay.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
