"""castline-launcher attacked from 127.0.0.1 with no key and no token: each
test is one way an unauthenticated client could take the daemon down or
past its limits, checked on the real daemon with raw sockets (so that no
client library hides what the server sent). The daemon's descriptors and
memory are read from /proc.

Standard library only. Environment (meson sets it): CASTLINE_BUILD_DIR,
CASTLINE_SOURCE_DIR. Run by hand:
/usr/bin/python3 tests/integration/test_security.py [-k PATTERN]
Every wait is bounded.
"""
import http.client
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launcherproc import Launcher, wait_for  # noqa: E402


def raw(port, data, timeout=5, read=True):
    """Sends data on a new connection; everything the server sent until it
    closed, reset the connection or went quiet for timeout seconds."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while read:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


def refusal(port, data, attempts=5):
    """The answer to a request the server refuses before reading it all: it
    closes with request bytes unread, so the kernel resets the connection,
    and the reset may overtake the answer before the client reads it (what
    a browser then shows as a reset, not the status). A few attempts."""
    answer = b""
    for _ in range(attempts):
        answer = raw(port, data)
        if answer:
            break
    return answer


def status_of(answer):
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else 0


def body_of(answer):
    return answer.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in answer else b""


class SecurityCase(unittest.TestCase):
    settings = {}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="castline-security-")
        self.launcher = Launcher(self.dir, **self.settings).start()
        self.port = self.launcher.port

    def tearDown(self):
        code = self.launcher.stop()
        if code != 0:
            print(self.launcher.output())
        shutil.rmtree(self.dir, ignore_errors=True)
        self.assertEqual(code, 0, "the launcher did not exit 0 on SIGTERM")

    def fds(self):
        return len(os.listdir(f"/proc/{self.launcher.proc.pid}/fd"))

    def rss_kib(self):
        with open(f"/proc/{self.launcher.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def create(self):
        status, s = self.launcher.api("POST", "/api/streams", {"title": "t"})
        self.assertEqual(status, 201, s)
        return s


class ConnectionTest(SecurityCase):
    settings = {"http_request_timeout": 2}

    def test_reset_clients_leave_no_descriptor(self):
        """2,000 keep-alive clients that make a request and leave with a TCP
        reset: every descriptor is given back."""
        self.launcher.request("GET", "/api/streams")
        base = self.fds()
        for _ in range(2000):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(b"GET /live/abc/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            s.recv(4096)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        self.assertTrue(wait_for(lambda: self.fds() <= base + 2, 10),
                        f"{self.fds()} descriptors open, {base} before")
        self.assertEqual(self.launcher.request("GET", "/api/streams")[0], 200)

    def test_headers_then_silence_is_reaped(self):
        """A client that sends its headers and then nothing of the body it
        announced is disconnected after http_request_timeout."""
        self.launcher.request("GET", "/api/streams")
        base = self.fds()
        silent = [socket.create_connection(("127.0.0.1", self.port), timeout=10) for _ in range(20)]
        for s in silent:
            s.sendall(b"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        for s in silent:
            self.assertEqual(s.recv(4096), b"", "the server answered a body it never got")
            s.close()
        self.assertLess(time.monotonic() - started, 10, "not disconnected within the time-out")
        self.assertTrue(wait_for(lambda: self.fds() <= base + 2, 10))
        self.assertEqual(self.launcher.request("GET", "/api/streams")[0], 200)
        _, _, metrics = self.launcher.request("GET", "/metrics")
        self.assertIn(b'castline_http_refused_total{reason="timeout"}', metrics)


class BodyTest(SecurityCase):
    def test_oversized_body_is_refused_before_it_is_read(self):
        """A 1 GiB body to the public heartbeat: 413 at once, no 100
        Continue, and the daemon's memory does not grow."""
        s = self.create()
        rss = self.rss_kib()
        answer = raw(self.port, (f"POST /api/streams/{s['id']}/heartbeat HTTP/1.1\r\n"
                                 "Host: 127.0.0.1\r\nContent-Length: 1073741824\r\n"
                                 "Expect: 100-continue\r\n\r\n").encode())
        self.assertEqual(status_of(answer), 413, answer[:200])
        self.assertNotIn(b"100 Continue", answer)
        # and sent anyway, without asking: refused as it comes, never kept
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(b"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        sent = 0
        try:
            chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
            while sent < 256 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass                 # cut off: what is wanted
        finally:
            sock.close()
        self.assertLess(sent, 64 * 1024 * 1024, "a chunked body over the limit was read on")
        self.assertLess(self.rss_kib() - rss, 20 * 1024, "memory grew with the refused bodies")


class FileTest(SecurityCase):
    settings = {"http_request_timeout": 3}

    def test_slow_readers_of_a_large_file_keep_memory_flat(self):
        """Eight clients that read a 60 MiB recording slowly (and one that
        never reads): the file is sent from disk, not held in memory, and
        the one that reads nothing is disconnected."""
        s = self.create()
        directory = os.path.join(self.dir, "data", "live", s["id"])
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "recording.mp4"), "wb") as f:
            f.write(os.urandom(1024 * 1024) * 60)
        rss = self.rss_kib()
        request = (f"GET /live/{s['id']}/recording.mp4 HTTP/1.1\r\n"
                   "Host: 127.0.0.1\r\n\r\n").encode()
        readers = []
        for _ in range(9):
            c = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.sendall(request)
            readers.append(c)
        for _ in range(20):
            for c in readers[:8]:
                c.recv(4096)
            time.sleep(0.05)
        grown = self.rss_kib() - rss
        self.assertLess(grown, 30 * 1024, f"RSS grew {grown} KiB with 8 slow readers")
        # the ninth, which read nothing for over http_request_timeout, was
        # cut off: what it can still read is what the kernel buffered
        time.sleep(4)
        readers[8].settimeout(15)
        total = 0
        while True:
            chunk = readers[8].recv(1 << 20)
            if not chunk:
                break
            total += len(chunk)
        self.assertLess(total, 60 * 1024 * 1024, "a client that never read was kept")
        for c in readers:
            c.close()
        # ranges of it, and its length, as players ask
        status, hdrs, body = self.launcher.request(
            "GET", f"/live/{s['id']}/recording.mp4", headers={"Range": "bytes=62914550-"})
        self.assertEqual((status, len(body)), (206, 10))
        self.assertEqual(hdrs.get("Content-Range"), "bytes 62914550-62914559/62914560")


class CrossSiteTest(SecurityCase):
    """Without an admin token the API answers loopback clients only, and
    not a web page of another site working through the user's browser."""

    def test_rebinding_and_cross_site_requests_are_refused(self):
        for host, want in [("evil.example", 421), ("evil.example:8080", 421),
                           (f"127.0.0.1:{self.port}", 200), (f"localhost:{self.port}", 200)]:
            answer = raw(self.port, (f"GET /api/streams HTTP/1.1\r\nHost: {host}\r\n"
                                     "Connection: close\r\n\r\n").encode())
            self.assertEqual(status_of(answer), want, host)
        simple = raw(self.port, (b"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: text/plain\r\nContent-Length: 0\r\n"
                                 b"Origin: http://evil.example\r\nConnection: close\r\n\r\n"))
        self.assertEqual(status_of(simple), 403, simple[:300])
        blank = raw(self.port, (b"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Content-Length: 0\r\nConnection: close\r\n\r\n"))
        self.assertEqual(status_of(blank), 403, blank[:300])
        self.assertEqual(self.launcher.api("GET", "/api/streams")[1], {"streams": []},
                         "a cross-site request created a stream")
        own = raw(self.port, (f"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                              f"Origin: http://127.0.0.1:{self.port}\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n").encode())
        self.assertEqual(status_of(own), 201, own[:300])


class MalformedTest(SecurityCase):
    def test_each_malformed_request_gets_its_status(self):
        s = self.create()
        cases = [
            ("64 KB header", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 65536
             + b"\r\n\r\n", 431),
            ("10,000 headers", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             + b"".join(b"X%d: y\r\n" % i for i in range(10000)) + b"\r\n", 431),
            ("40 KB URI", b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
            ("two Content-Length", b"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
             400),
            ("bad chunk size", b"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"zz\r\n{}\r\n0\r\n\r\n", 400),
            ("no Host", b"GET /api/streams HTTP/1.1\r\n\r\n", 400),
        ]
        for name, request, want in cases:
            answer = refusal(self.port, request)
            self.assertEqual(status_of(answer), want, f"{name}: {answer[:200]!r}")
        # WHIP says how to authenticate
        answer = raw(self.port, (f"POST /whip/{s['id']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 "Content-Type: application/sdp\r\nContent-Length: 5\r\n"
                                 "Authorization: Bearer wrong\r\nConnection: close\r\n\r\nv=0\r\n"
                                 ).encode())
        self.assertEqual(status_of(answer), 401)
        self.assertIn(b"WWW-Authenticate: Bearer", answer)
        # a long or hostile id is not echoed
        answer = raw(self.port, (f"GET /api/streams/{'a' * 10000}/status HTTP/1.1\r\n"
                                 "Host: 127.0.0.1\r\nConnection: close\r\n\r\n").encode())
        self.assertIn(status_of(answer), (400, 404))
        self.assertLess(len(body_of(answer)), 200, answer[:300])
        # what is stored is valid UTF-8 without NUL
        for title in (b'"\xff\xfe"', b'"a\\ud800b"', b'"a\\u0000b"'):
            body = b'{"title": ' + title + b'}'
            answer = raw(self.port, b"POST /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.assertEqual(status_of(answer), 400, title)
        status, listing = self.launcher.api("GET", "/api/streams")
        self.assertEqual([x["id"] for x in listing["streams"]], [s["id"]])
        json.dumps(listing)

    def test_keep_alive_survives_a_204(self):
        """A 204 answer (a heartbeat) keeps the connection for the next."""
        s = self.create()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("POST", f"/api/streams/{s['id']}/heartbeat", body='{"viewer": "v1"}')
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 204)
        sock = conn.sock
        conn.request("GET", f"/api/streams/{s['id']}/status")
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        self.assertIs(conn.sock, sock, "the connection was closed after the 204")
        conn.close()


class LimitTest(SecurityCase):
    settings = {"http": {"max_connections_per_address": 20}}

    def test_connections_per_address_are_bounded(self):
        held = []
        try:
            for _ in range(20):
                c = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                held.append(c)
            extra = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            extra.sendall(b"GET /api/streams HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try:
                got = extra.recv(4096)
            except (ConnectionResetError, socket.timeout):
                got = b""
            extra.close()
            self.assertEqual(got, b"", "a connection past the limit was served")
        finally:
            for c in held:
                c.close()
        def served():
            """the address's connections are counted again once the server
            saw the held ones close: until then a new one is refused"""
            try:
                return self.launcher.request("GET", "/api/streams")[0] == 200
            except OSError:
                return False
        self.assertTrue(wait_for(served, 10))


if __name__ == "__main__":
    unittest.main(verbosity=2)
