"""Thousands of HTTP clients at once, from one process (asyncio), for a
load test of castline-launcher: idle connections, slow readers of a
segment, a flood of WHIP offers and WebSocket upgrades with wrong keys,
and HLS viewers that poll a playlist (counted by `?viewer=`) and fetch
each new segment. Each kind comes from addresses of its own in 127/8
(never 127.0.0.1, which the test measures from), so that the daemon's
per-address limit is not what is tested.

    /usr/bin/python3 hostileclients.py '{"port": 8080, "streams": ["id", ...],
        "seconds": 40, "idle": 5000, "slow": 200, "flood_workers": 8, "viewers": 1000,
        "poll": 2.0}'
    # prints "ready" once the idle connections are open, and at the end
    # one JSON line of what it did

HostileClients runs it as a child process: a test's own threads then
measure the daemon without sharing an interpreter (and its GIL) with the
load. Standard library only. Every wait is bounded; everything is closed
at the end.
"""
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# a bogus SDP: what a flood sends, never looked at past the key
BOGUS_SDP = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=flood\r\nt=0 0\r\nm=video 9 UDP 96\r\n"


def raise_descriptor_limit():
    """Takes the hard descriptor limit as the soft one (thousands of sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class HostileClients:
    """hostileclients.py as a child process (its output in a file):
    wait_ready(), then result() once it ended (it stops by itself after
    its seconds); stop() kills it if still running."""

    def __init__(self, config, log_path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "hostileclients.py"),
                                      json.dumps(config)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready" in self.output().splitlines() or self.proc.poll() is not None:
                break
            time.sleep(0.2)
        return "ready" in self.output().splitlines()

    def result(self, timeout):
        """what it did, once it ended (None if it did not end in time)"""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        for line in reversed(self.output().splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


class Counts:
    def __init__(self):
        self.values = {}

    def add(self, name, n=1):
        self.values[name] = self.values.get(name, 0) + n


async def connect(port, source, rcvbuf=None, timeout=10):
    """A TCP connection from source (an address in 127/8) to the daemon;
    rcvbuf: a small receive buffer (set before connecting, so the window
    the server sees is small)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    try:
        sock.bind((source, 0))
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)),
                               timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def read_answer(reader, timeout=20):
    """(status, body) of one HTTP/1.1 answer (Content-Length or chunked)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.strip().lower(): v.strip() for k, v in
              (line.split(":", 1) for line in lines[1:] if ":" in line)}
    if "content-length" in fields:
        body = await asyncio.wait_for(reader.readexactly(int(fields["content-length"])), timeout)
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await asyncio.wait_for(reader.readline(), timeout)).split(b";")[0], 16)
            chunk = await asyncio.wait_for(reader.readexactly(size + 2), timeout)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = b""
    return status, body, fields


def request(method, target, headers=(), body=b""):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Load:
    def __init__(self, config):
        self.port = config["port"]
        self.streams = config["streams"]
        self.config = config
        self.counts = Counts()
        self.end = time.monotonic() + config["seconds"]
        self.socks = set()

    def running(self):
        return time.monotonic() < self.end

    async def pause(self, seconds):
        await asyncio.sleep(max(0.0, min(seconds, self.end - time.monotonic())))

    # ---- idle connections: open, then nothing; opened again when closed
    async def idle(self, n, source, opened):
        loop = asyncio.get_running_loop()
        while self.running():
            try:
                sock = await connect(self.port, source)
            except (OSError, asyncio.TimeoutError):
                self.counts.add("idle_connect_errors")
                await self.pause(1)
                continue
            self.socks.add(sock)
            self.counts.add("idle_opened")
            opened.release()
            try:
                # returns when the server closes it (its inactivity time-out)
                while self.running():
                    try:
                        data = await asyncio.wait_for(loop.sock_recv(sock, 1024),
                                                      max(0.1, self.end - time.monotonic()))
                    except asyncio.TimeoutError:
                        break
                    if not data:
                        self.counts.add("idle_closed_by_server")
                        break
            except OSError:
                self.counts.add("idle_closed_by_server")
            finally:
                self.socks.discard(sock)
                sock.close()

    # ---- slow readers: one segment, 1 KiB a second, a 4 KiB window
    async def slow(self, n, source, segment):
        loop = asyncio.get_running_loop()
        while self.running():
            try:
                sock = await connect(self.port, source, rcvbuf=4096)
            except (OSError, asyncio.TimeoutError):
                self.counts.add("slow_connect_errors")
                await self.pause(1)
                continue
            self.socks.add(sock)
            try:
                await loop.sock_sendall(sock, request("GET", segment))
                while self.running():
                    data = await asyncio.wait_for(loop.sock_recv(sock, 1024), 30)
                    if not data:
                        self.counts.add("slow_closed_by_server")
                        break
                    self.counts.add("slow_bytes", len(data))
                    await self.pause(1)
            except (OSError, asyncio.TimeoutError):
                self.counts.add("slow_errors")
            finally:
                self.socks.discard(sock)
                sock.close()

    # ---- a flood of WHIP offers and WebSocket upgrades with wrong keys
    async def flood(self, n, source):
        i = 0
        writer = None
        while self.running():
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(
                        "127.0.0.1", self.port, local_addr=(source, 0)), 10)
                stream = self.streams[i % len(self.streams)] if i % 3 else "nosuchstream1"
                if i % 2:
                    writer.write(request("POST", f"/whip/{stream}", (
                        "Content-Type: application/sdp", f"Authorization: Bearer wrong{i}"),
                        BOGUS_SDP.encode()))
                    kind = "whip"
                else:
                    writer.write(request("GET", f"/ingest/{stream}?key=wrong{i}", (
                        "Upgrade: websocket", "Connection: Upgrade",
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                        "Sec-WebSocket-Version: 13")))
                    kind = "ws"
                i += 1
                status, _, fields = await read_answer(reader)
                self.counts.add(f"{kind}_{status}")
                if fields.get("connection", "").lower() == "close":
                    writer.close()
                    writer = None
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError,
                    IndexError):
                self.counts.add("flood_errors")
                if writer:
                    writer.close()
                writer = None
                await self.pause(0.05)
        if writer:
            writer.close()

    # ---- viewers: the playlist every poll seconds, each new segment once
    async def viewer(self, n, source):
        stream = self.streams[n % len(self.streams)]
        poll = self.config.get("poll", 2.0)
        await self.pause(poll * (n % 100) / 100)          # spread over a poll
        writer, newest = None, None
        while self.running():
            started = time.monotonic()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(
                        "127.0.0.1", self.port, local_addr=(source, 0)), 10)
                writer.write(request("GET", f"/live/{stream}/index.m3u8?viewer=load{n}",
                                     (f"User-Agent: castline-load-viewer/{n}",)))
                status, body, _ = await read_answer(reader)
                self.counts.add(f"playlist_{status}")
                uris = [line for line in body.decode(errors="replace").splitlines()
                        if line and not line.startswith("#")]
                if status == 200 and uris and uris[-1] != newest:
                    newest = uris[-1]
                    writer.write(request("GET", f"/live/{stream}/{newest}",
                                         (f"User-Agent: castline-load-viewer/{n}",)))
                    status, body, _ = await read_answer(reader)
                    self.counts.add(f"segment_{status}")
                    self.counts.add("segment_bytes", len(body))
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError,
                    IndexError):
                self.counts.add("viewer_errors")
                if writer:
                    writer.close()
                writer = None
            await self.pause(poll - (time.monotonic() - started))
        if writer:
            writer.close()

    async def first_segment(self, stream):
        """a segment of stream the daemon serves (the slow readers' file)"""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port,
                                                       local_addr=("127.0.0.2", 0))
        try:
            writer.write(request("GET", f"/live/{stream}/index.m3u8"))
            _, body, _ = await read_answer(reader)
            uris = [line for line in body.decode().splitlines()
                    if line and not line.startswith("#")]
            return f"/live/{stream}/{uris[0]}"
        finally:
            writer.close()

    async def run(self):
        c = self.config
        segments = [await self.first_segment(s) for s in self.streams]
        tasks = []
        # 5,000 idle connections from 127.0.0.10..: 1,000 an address
        opened = asyncio.Semaphore(0)
        for n in range(c["idle"]):
            tasks.append(asyncio.create_task(self.idle(n, f"127.0.0.{10 + n // 1000}", opened)))
            if n % 200 == 199:
                await asyncio.sleep(0.05)       # within the listen backlog
        deadline = time.monotonic() + 30
        got = 0
        while got < c["idle"] and time.monotonic() < deadline:
            try:
                await asyncio.wait_for(opened.acquire(), deadline - time.monotonic())
                got += 1
            except asyncio.TimeoutError:
                break
        print("ready", flush=True)
        for n in range(c["slow"]):
            tasks.append(asyncio.create_task(self.slow(n, "127.0.0.3", segments[n % len(segments)])))
        for n in range(c["flood_workers"]):
            tasks.append(asyncio.create_task(self.flood(n, "127.0.0.4")))
        for n in range(c["viewers"]):
            tasks.append(asyncio.create_task(self.viewer(n, f"127.0.0.{5 + n % 4}")))
        await asyncio.wait(tasks, timeout=max(1.0, self.end - time.monotonic()) + 35)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sock in list(self.socks):
            sock.close()
        return self.counts.values


def main():
    config = json.loads(sys.argv[1])
    limit = raise_descriptor_limit()
    needed = config["idle"] + config["slow"] + config["viewers"] + config["flood_workers"] + 100
    if limit < needed:
        print(f"descriptor limit {limit} < {needed}", flush=True)
        return 1
    counts = asyncio.run(Load(config).run())
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
