"""A minimal blocking WebSocket client (RFC 6455), standard library only,
for tests: it sees the exact close code on the wire and can cut the TCP
connection at will. Every read has a time-out."""
import base64
import hashlib
import os
import socket
import struct


class WsClient:
    def __init__(self, port, target, headers=None, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                break
            head += chunk
        self.pending = b""
        status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        self.status = int(status_line.split()[1]) if len(status_line.split()) > 1 else 0
        if self.status == 101:
            # RFC 6455 4.2.2: what a browser checks before it opens the socket
            want = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            fields = dict(line.split(": ", 1) for line in
                          head.decode(errors="replace").split("\r\n")[1:] if ": " in line)
            fields = {k.lower(): v for k, v in fields.items()}
            if fields.get("sec-websocket-accept") != want:
                raise AssertionError(f"a wrong Sec-WebSocket-Accept: {head!r}")
            if "upgrade" not in fields.get("connection", "").lower():
                raise AssertionError(f"no Connection: Upgrade: {head!r}")

    def send_frame(self, opcode, payload):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        # XOR as one big integer: fast enough for a message of megabytes
        key = (mask * (n // 4 + 1))[:n]
        body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
        self.sock.sendall(header + mask + body)

    def send_binary(self, data):
        self.send_frame(0x2, data)

    def send_text(self, text):
        self.send_frame(0x1, text.encode())

    def _read(self, n):
        while len(self.pending) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.pending += chunk
        out, self.pending = self.pending[:n], self.pending[n:]
        return out

    def read_frame(self):
        h = self._read(2)
        n = h[1] & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        return h[0] & 0x0F, self._read(n)

    def wait_close(self):
        """(code, reason) of the server's close frame; (1006, '') if the
        connection ended without one."""
        try:
            while True:
                opcode, payload = self.read_frame()
                if opcode == 0x8:
                    code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                    try:
                        self.send_frame(0x8, payload[:2])
                    except OSError:
                        pass
                    return code, payload[2:].decode(errors="replace")
        except (ConnectionError, OSError):
            return 1006, ""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
