"""A minimal Server-Sent Events client for tests, standard library only: a
thread reads the stream (http.client undoes the chunking) and queues each
event as (name, data parsed as JSON); comment lines are counted. Every
wait has a time-out."""
import http.client
import json
import queue
import threading
import time


class SseClient:
    def __init__(self, port, path, headers=None, timeout=30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("GET", path, headers=headers or {})
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = dict(self.response.getheaders())
        self.events = queue.Queue()
        self.comments = 0
        self.closed = threading.Event()
        self.seen = []
        if self.status == 200:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.body = self.response.read()
            self.closed.set()

    def _read(self):
        name, data = "message", []
        try:
            while True:
                line = self.response.readline()
                if not line:
                    break
                line = line.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    self.events.put((name, json.loads("\n".join(data))))
                    name, data = "message", []
        except (OSError, ValueError, http.client.HTTPException, AttributeError):
            # AttributeError: http.client's chunked reader when close()
            # shut the connection under a readline (its fp already None)
            pass
        finally:
            self.closed.set()

    def next(self, name=None, predicate=None, timeout=20):
        """The next event called name (any if None) that predicate takes;
        the others are kept in self.seen. None on time-out."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                return None
            self.seen.append(event)
            if (name is None or event[0] == name) and (predicate is None or predicate(event[1])):
                return event[1]

    def close(self):
        try:
            self.conn.sock and self.conn.sock.shutdown(2)
        except OSError:
            pass
        self.conn.close()
        self.closed.wait(5)
