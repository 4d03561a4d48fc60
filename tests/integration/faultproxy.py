"""A fault-injecting TCP proxy between a client (castline's S3 client) and
a server (s3rver), since this kernel has no netem (../shared/FACTS.md). It
listens on a free 127.0.0.1 port, opens one upstream connection per client
connection and forwards both ways; its mode is switched at run time:

    pass       forwards everything at once;
    refuse     the server is down: the listening socket is closed (a new
               connection gets "connection refused") and every open
               connection is reset;
    blackhole  the path is dead: new connections are accepted and never
               answered; open connections stall. A connection that saw the
               blackhole stays dead after it (its bytes are read and
               dropped, nothing is forwarded) until the client closes it:
               only the client's own time-out gets it out;
    delay      S3 is slow: every chunk from the server is held `delay`
               seconds (from its arrival) before it goes to the client.

    with FaultProxy(("127.0.0.1", s3.port)) as proxy:
        endpoint = proxy.endpoint                  # http://127.0.0.1:PORT
        proxy.set_mode("refuse"); proxy.set_mode("blackhole")
        proxy.set_mode("delay", 2.0); proxy.set_mode("pass")
        proxy.counts()   # {"accepted", "refused", "reset", "blackholed", "up_bytes", "down_bytes"}

One thread (selectors) does everything; stop() ends it and closes every
socket. Memory is bounded: a side is not read while the other side has
more than MAX_BUFFERED bytes waiting for it. Standard library only.
`python3 faultproxy.py` runs its self-test.
"""
import collections
import selectors
import socket
import struct
import threading
import time
import unittest

MODES = ("pass", "refuse", "blackhole", "delay")
CHUNK = 65536
MAX_BUFFERED = 1 << 20     # bytes waiting for one side before the other is no longer read
MAX_CONNECTIONS = 512      # a bound, not a limit a test meets


def reset(sock):
    """Closes sock with an RST (SO_LINGER 0), as a server that went away."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class _Side:
    """One socket of a proxied connection and what waits to be written to it."""

    def __init__(self, sock):
        self.sock = sock
        self.out = bytearray()                # due now
        self.held = collections.deque()       # (due, bytes) in delay mode
        self.eof = False                      # it ended (EOF): the connection closes once flushed
        self.events = 0                       # the selector's interest in it

    def waiting(self):
        return len(self.out) + sum(len(d) for _, d in self.held)


class _Connection:
    def __init__(self, client, upstream):
        self.client = _Side(client)
        self.upstream = _Side(upstream) if upstream else None
        self.dead = upstream is None           # blackholed: never forwards again
        self.closed = False


class FaultProxy:
    """upstream: the (host, port) of the server."""

    def __init__(self, upstream, host="127.0.0.1"):
        self.upstream = upstream
        self.host = host
        self.lock = threading.Lock()
        self._mode, self._delay = "pass", 0.0
        self._counts = dict.fromkeys(("accepted", "refused", "reset", "blackholed",
                                      "up_bytes", "down_bytes"), 0)
        self.listener = None
        self.port = None
        self._listen()
        self.connections = {}                  # socket: (connection, which side)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.stopping = False
        self.applied = "pass"
        self._applied_event = None
        self.thread = threading.Thread(target=self._run, name="faultproxy", daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"http://{self.host}:{self.port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def mode(self):
        with self.lock:
            return self._mode, self._delay

    def set_mode(self, mode, delay=0.0):
        """Switches to mode (delay: seconds, for "delay"); applied by the
        proxy's thread before set_mode returns (at most 5 s)."""
        if mode not in MODES or delay < 0:
            raise ValueError(f"mode in {MODES}, delay >= 0")
        done = threading.Event()
        with self.lock:
            self._mode, self._delay = mode, float(delay)
            self._applied_event = done
        self.wake_w.send(b"m")
        if not done.wait(5):
            raise RuntimeError("the proxy's thread did not take the new mode")

    def counts(self):
        """accepted: connections forwarded; refused: connection attempts
        refused (none can be counted: the kernel refuses them) plus
        connections reset; blackholed: connections that went dead;
        up_bytes/down_bytes: forwarded to the server / to the clients."""
        with self.lock:
            return dict(self._counts)

    def stop(self):
        """Ends the thread and closes every socket; idempotent."""
        if self.thread.is_alive():
            self.stopping = True
            self.wake_w.send(b"s")
            self.thread.join(10)
        for sock in list(self.connections):
            sock.close()
        self.connections.clear()
        for s in (self.listener, self.wake_r, self.wake_w):
            if s is not None:
                s.close()
        self.selector.close()

    # --- the proxy's thread ---
    def _count(self, name, n=1):
        with self.lock:
            self._counts[name] += n

    def _listen(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port or 0))
        s.listen(128)
        s.setblocking(False)
        self.listener = s
        self.port = s.getsockname()[1]

    def _apply_mode(self):
        with self.lock:
            mode, event = self._mode, self._applied_event
            self._applied_event = None
        if mode == "refuse" and self.listener is not None:
            self.selector.unregister(self.listener)
            self.listener.close()
            self.listener = None
            for conn in {c for c, _ in self.connections.values()}:
                self._close(conn, rst=True)
                self._count("reset")
        elif mode != "refuse" and self.listener is None:
            self._listen()           # the same port (SO_REUSEADDR)
            self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        if mode == "blackhole":
            for conn in {c for c, _ in self.connections.values()}:
                if not conn.dead:
                    self._kill(conn)
        self.applied = mode
        if event:
            event.set()

    def _kill(self, conn):
        """The path died: nothing more is forwarded; the upstream side goes."""
        conn.dead = True
        self._count("blackholed")
        conn.client.out.clear()
        conn.client.held.clear()
        if conn.upstream:
            self._forget(conn.upstream)
            conn.upstream.sock.close()
            conn.upstream = None
        self._update(conn)

    def _accept(self):
        for _ in range(64):
            try:
                client, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(self.connections) >= 2 * MAX_CONNECTIONS:
                reset(client)
                self._count("refused")
                continue
            client.setblocking(False)
            upstream = None
            if self.applied != "blackhole":
                try:
                    upstream = socket.create_connection(self.upstream, timeout=2)
                    upstream.setblocking(False)
                except OSError:
                    reset(client)          # the server itself is down
                    self._count("refused")
                    continue
                self._count("accepted")
            else:
                self._count("blackholed")
            conn = _Connection(client, upstream)
            self.connections[client] = (conn, "client")
            if upstream:
                self.connections[upstream] = (conn, "upstream")
            self._update(conn)

    def _forget(self, side):
        self.connections.pop(side.sock, None)
        if side.events:
            self.selector.unregister(side.sock)
            side.events = 0

    def _close(self, conn, rst=False):
        if conn.closed:
            return
        conn.closed = True
        for side in (conn.client, conn.upstream):
            if side is None:
                continue
            self._forget(side)
            if rst:
                reset(side.sock)
            else:
                side.sock.close()

    def _update(self, conn):
        """Selector interest of both sides: read unless the ends met or the
        other side has too much waiting; write while something is due."""
        if conn.closed:
            return
        ended = conn.client.eof or (conn.upstream is not None and conn.upstream.eof)
        for side, other in ((conn.client, conn.upstream), (conn.upstream, conn.client)):
            if side is None:
                continue
            events = 0
            if not ended and (other is None or other.waiting() < MAX_BUFFERED):
                events |= selectors.EVENT_READ
            if side.out:
                events |= selectors.EVENT_WRITE
            if events == side.events:
                continue
            if not side.events:
                self.selector.register(side.sock, events, "conn")
            elif not events:
                self.selector.unregister(side.sock)
            else:
                self.selector.modify(side.sock, events, "conn")
            side.events = events

    def _read(self, sock, conn, which):
        side = conn.client if which == "client" else conn.upstream
        other = conn.upstream if which == "client" else conn.client
        try:
            data = sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            if conn.dead:
                self._close(conn)
                return
            side.eof = True          # what waits for the other side still goes
            self._finish_if_done(conn)
            self._update(conn)
            return
        if conn.dead or other is None:
            return                   # blackholed: read and dropped
        delay = self._delay if self.applied == "delay" else 0.0
        if which == "upstream" and delay > 0:
            other.held.append((time.monotonic() + delay, data))
        else:
            other.out += data
        self._update(conn)

    def _write(self, sock, conn, which):
        side = conn.client if which == "client" else conn.upstream
        if side is None or not side.out:
            return
        try:
            n = sock.send(side.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        del side.out[:n]
        self._count("up_bytes" if which == "upstream" else "down_bytes", n)
        self._finish_if_done(conn)
        self._update(conn)

    def _finish_if_done(self, conn):
        """One side ended and nothing waits to be written to either: close
        the connection (HTTP clients and servers end both ways at once)."""
        if conn.closed or conn.dead:
            return
        sides = [conn.client, conn.upstream]
        if any(s.eof for s in sides) and all(not s.waiting() for s in sides):
            self._close(conn)

    def _release_held(self):
        """Moves delayed chunks that are due to their side's output; the
        time until the next one (None: nothing held)."""
        now, next_due = time.monotonic(), None
        for conn in {c for c, _ in self.connections.values()}:
            for side in (conn.client, conn.upstream):
                if side is None:
                    continue
                moved = False
                while side.held and side.held[0][0] <= now:
                    side.out += side.held.popleft()[1]
                    moved = True
                if side.held:
                    due = side.held[0][0] - now
                    next_due = due if next_due is None else min(next_due, due)
                if moved:
                    self._update(conn)
        return next_due

    def _run(self):
        while not self.stopping:
            timeout = self._release_held()
            for key, events in self.selector.select(timeout if timeout is not None else 1.0):
                if key.data == "wake":
                    try:
                        self.wake_r.recv(64)
                    except OSError:
                        pass
                    if self.stopping:
                        return
                    self._apply_mode()
                elif key.data == "accept":
                    if self.listener is not None:
                        self._accept()
                elif key.fileobj in self.connections:
                    conn, which = self.connections[key.fileobj]
                    if events & selectors.EVENT_WRITE:
                        self._write(key.fileobj, conn, which)
                    if events & selectors.EVENT_READ and key.fileobj in self.connections:
                        self._read(key.fileobj, conn, which)


class SelfTest(unittest.TestCase):
    """The proxy against an echo server of its own (one line in, the same
    line out)."""

    def setUp(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.running = True
        self.handlers = []

        def serve():
            self.server.settimeout(0.1)
            while self.running:
                try:
                    c, _ = self.server.accept()
                except socket.timeout:
                    continue
                except OSError:
                    return
                t = threading.Thread(target=self.echo, args=(c,), daemon=True)
                t.start()
                self.handlers.append(t)
        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        self.proxy = FaultProxy(self.server.getsockname())
        self.addCleanup(self.proxy.stop)

    def echo(self, c):
        c.settimeout(0.2)
        with c:
            while self.running:
                try:
                    data = c.recv(CHUNK)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                c.sendall(data)

    def tearDown(self):
        self.running = False
        self.thread.join(5)
        self.server.close()
        for t in self.handlers:
            t.join(5)

    def client(self, timeout=2.0):
        c = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=timeout)
        self.addCleanup(c.close)
        return c

    @staticmethod
    def ask(c, data=b"hello\n"):
        c.sendall(data)
        got = b""
        while len(got) < len(data):
            more = c.recv(CHUNK)
            if not more:
                break
            got += more
        return got

    def test_passes_both_ways(self):
        c = self.client()
        self.assertEqual(self.ask(c), b"hello\n")
        big = bytes(range(256)) * 4096          # 1 MiB, more than one chunk
        self.assertEqual(self.ask(c, big), big)
        self.assertEqual(self.proxy.counts()["accepted"], 1)

    def test_refuse_resets_open_connections_and_refuses_new_ones(self):
        c = self.client()
        self.assertEqual(self.ask(c), b"hello\n")
        self.proxy.set_mode("refuse")
        with self.assertRaises((ConnectionResetError, BrokenPipeError)):
            self.ask(c)
            self.ask(c)                         # the first may still be written
        with self.assertRaises(ConnectionRefusedError):
            self.client()
        self.proxy.set_mode("pass")
        self.assertEqual(self.ask(self.client()), b"hello\n", "not back on the same port")

    def test_blackhole_never_answers_and_its_connections_stay_dead(self):
        c = self.client(timeout=0.5)
        self.assertEqual(self.ask(c), b"hello\n")
        self.proxy.set_mode("blackhole")
        with self.assertRaises(socket.timeout):
            self.ask(c)
        fresh = self.client(timeout=0.5)        # accepted by the kernel, never answered
        with self.assertRaises(socket.timeout):
            self.ask(fresh)
        self.proxy.set_mode("pass")
        for dead in (c, fresh):
            with self.assertRaises(socket.timeout):
                self.ask(dead)
        self.assertEqual(self.ask(self.client()), b"hello\n")
        self.assertEqual(self.proxy.counts()["blackholed"], 2)

    def test_delay_holds_every_answer(self):
        self.proxy.set_mode("delay", 0.5)
        c = self.client()
        for _ in range(2):
            t0 = time.monotonic()
            self.assertEqual(self.ask(c), b"hello\n")
            self.assertGreaterEqual(time.monotonic() - t0, 0.45)
        self.proxy.set_mode("pass")
        t0 = time.monotonic()
        self.assertEqual(self.ask(c), b"hello\n")
        self.assertLess(time.monotonic() - t0, 0.45)

    def test_stop_ends_the_thread_and_closes_the_sockets(self):
        c = self.client()
        self.assertEqual(self.ask(c), b"hello\n")
        self.proxy.set_mode("delay", 5)
        c.sendall(b"held\n")
        time.sleep(0.1)
        self.proxy.stop()
        self.assertFalse(self.proxy.thread.is_alive())
        self.assertEqual(self.proxy.listener.fileno(), -1)
        self.assertEqual(c.recv(CHUNK), b"", "the client's connection was not closed")
        self.proxy.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
