"""Webhooks end to end: stream events POSTed to a Python receiver, signed
with the secret, in order, retried when the receiver is unavailable, and
delivered before the daemon exits; no secret logged. Other events
(recording.ready, stream.interrupted and resumed) are checked with their
features: test_launcher_recordings.py, test_launcher_lifecycle.py.

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_webhooks.py [-k PATTERN]
Every wait is bounded.
"""
import hashlib
import hmac
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from launchercase import WEBHOOK_QUERY_TOKEN, WEBHOOK_SECRET, WebhookCase  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


class WebhookTest(WebhookCase):
    """Stream events POSTed to a Python receiver, signed with the secret."""

    def check_signed(self, headers, body):
        ts = headers.get("x-castline-timestamp", "")
        self.assertTrue(ts.isdigit(), headers)
        self.assertLess(abs(int(ts) - time.time()), 60, "a timestamp that is not now")
        want = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), ts.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
        self.assertTrue(hmac.compare_digest(headers.get("x-castline-signature", ""), want),
                        "the signature does not check")

    def check_nothing_secret_logged(self, stream):
        out = self.launcher.output()
        for secret in (WEBHOOK_SECRET, WEBHOOK_QUERY_TOKEN, stream["key"]):
            self.assertNotIn(secret, out)

    def test_lifecycle_events_are_signed_in_order(self):
        s = self.create(title="hooked")
        self.publish(s, "h264")
        self.wait_state(s["id"], "ended")
        got = self.receiver.wait(3)
        self.assertTrue(got, "events missing: %r" % (self.receiver.received(),))
        self.assertEqual([h["x-castline-event"] for h, _ in got],
                         ["stream.created", "stream.started", "stream.ended"])
        for headers, body in got:
            self.check_signed(headers, body)
            self.assertEqual(headers["content-type"], "application/json")
            self.assertTrue(headers["user-agent"].startswith("castline/"), headers["user-agent"])
            event = json.loads(body)
            self.assertEqual(event["type"], headers["x-castline-event"])
            self.assertEqual(event["id"], headers["x-castline-delivery"])
            self.assertEqual(event["stream"]["id"], s["id"])
            self.assertNotIn(s["key"], body.decode())
            self.assertNotIn("key", event["stream"])
        self.assertEqual(len({h["x-castline-delivery"] for h, _ in got}), 3)
        ended = json.loads(got[2][1])["stream"]
        self.assertEqual((ended["state"], ended["pipeline"], ended["ingest"]),
                         ("ended", "passthrough", "websocket"))
        self.assertEqual(ended["playback_url"], s["playback_url"])
        self.assertTrue(ended["started_at"] and ended["ended_at"])
        self.assertEqual(self.launcher.stop(), 0)
        self.check_nothing_secret_logged(s)

    def test_shutdown_waits_for_stream_ended(self):
        # its first attempt fails: only a daemon that waits for its
        # webhooks before exiting makes the second
        self.receiver.fail = {"stream.ended": 1}
        s = self.create()
        ws = self.publish(s, "h264", pace=0.02, stop=False)
        self.wait_state(s["id"], "live")
        self.assertEqual(self.launcher.stop(), 0)
        # no waiting here: they must have come before the daemon exited
        types = [h["x-castline-event"] for h, _ in self.receiver.received()]
        self.assertEqual(types, ["stream.created", "stream.started",
                                 "stream.ended", "stream.ended"])
        ws.close()
        self.check_nothing_secret_logged(s)

    def test_unavailable_receiver_gets_the_event_retried(self):
        self.receiver.fail = {"stream.created": 1}
        s = self.create()
        got = self.receiver.wait(2, timeout=15)
        self.assertTrue(got, "not retried: %r" % (self.receiver.received(),))
        (h1, b1), (h2, b2) = got[:2]
        self.assertEqual(h1["x-castline-delivery"], h2["x-castline-delivery"])
        self.assertEqual(b1, b2)
        self.check_signed(h2, b2)
        self.assertEqual(json.loads(b2)["stream"]["id"], s["id"])
        time.sleep(1.5)                     # delivered once: no third attempt
        self.assertEqual(len(self.receiver.received()), 2)
        self.assertIn("HTTP 503", self.launcher.output())


if __name__ == "__main__":
    unittest.main(verbosity=2)
