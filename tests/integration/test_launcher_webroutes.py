"""The routes of web_dir end to end: pages and their files served with
their types, headers and CSP, nothing outside web_dir, revalidation
(304), and the API, metrics, WHIP, HLS and ingest routes untouched. The
real pages in Chromium: test_web.py.

Standard library only. Shared fixtures: launchercase.py.
Environment (meson sets it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR,
CASTLINE_PRELOAD (sanitizer runtime, optional).
Run by hand: /usr/bin/python3 tests/integration/test_launcher_webroutes.py [-k PATTERN]
Every wait is bounded.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsclient import WsClient  # noqa: E402
from launchercase import LauncherCase, case_dir  # noqa: E402
from launchercase import setUpModule, tearDownModule  # noqa: E402,F401 (module fixture)


WEB_FILES = {
    "dashboard.html": b"<!doctype html><title>dashboard</title>\n",
    "broadcast.html": b"<!doctype html><title>broadcast</title>\n",
    "watch.html": b"<!doctype html><title>watch</title>\n",
    "app.css": b"body { margin: 0 }\n",
    "app.js": b"export const x = 1;\n",
    "logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
    ".hidden.css": b"secret\n",
    "README": b"secret\n",
}



class WebPagesTest(LauncherCase):
    """The pages and their files from web_dir: types, headers, CSP, paths
    that must not get out of it, revalidation."""

    def setUp(self):
        self.web = case_dir("web-")
        for name, data in WEB_FILES.items():
            with open(os.path.join(self.web, name), "wb") as f:
                f.write(data)
        os.mkdir(os.path.join(self.web, "sub"))
        with open(os.path.join(self.web, "sub", "x.css"), "wb") as f:
            f.write(b"secret\n")
        with open(os.path.join(os.path.dirname(self.web), "outside.json"), "w") as f:
            f.write('"secret"')
        self.settings = {"web_dir": self.web}
        super().setUp()

    def test_pages_files_and_types(self):
        s = self.create()
        for path, name in [("/", "dashboard.html"), ("/broadcast", "broadcast.html"),
                           (f"/broadcast/{s['id']}", "broadcast.html"),
                           (f"/watch/{s['id']}", "watch.html")]:
            status, hdrs, body = self.launcher.request("GET", path)
            self.assertEqual((status, body), (200, WEB_FILES[name]), path)
            self.assertEqual(hdrs["Content-Type"], "text/html; charset=utf-8")
            csp = hdrs.get("Content-Security-Policy", "")
            for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                         "worker-src 'self' blob:", "media-src 'self' blob:",
                         "img-src 'self' data: blob:", "frame-ancestors 'none'"):
                self.assertIn(part, csp, path)
            self.assertIn(f"ws://127.0.0.1:{self.launcher.port}", csp)
            self.assertEqual(hdrs.get("X-Content-Type-Options"), "nosniff")
            self.assertEqual(hdrs.get("Referrer-Policy"), "no-referrer")
            self.assertEqual(hdrs.get("Cache-Control"), "no-cache")
        for name, ctype in [("app.css", "text/css; charset=utf-8"),
                            ("app.js", "text/javascript; charset=utf-8"),
                            ("logo.svg", "image/svg+xml")]:
            status, hdrs, body = self.launcher.request("GET", "/ui/" + name)
            self.assertEqual((status, hdrs["Content-Type"], body), (200, ctype, WEB_FILES[name]))
            self.assertNotIn("Content-Security-Policy", hdrs)
        status, hdrs, body = self.launcher.request("GET", "/ui/hls.min.js")
        self.assertEqual((status, hdrs["Content-Type"]), (200, "text/javascript; charset=utf-8"))
        self.assertGreater(len(body), 100000)
        status, hdrs, body = self.launcher.request("HEAD", "/")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(int(hdrs["Content-Length"]), len(WEB_FILES["dashboard.html"]))
        self.assertEqual(self.launcher.request("POST", "/")[0], 405)

    def test_nothing_outside_web_dir(self):
        for path in ["/ui/../outside.json", "/ui/%2e%2e/outside.json", "/ui/%2e%2e%2foutside.json",
                     "/ui/..%2F..%2Foutside.json", "/ui/.hidden.css", "/ui/README", "/ui/sub/x.css",
                     "/ui/sub%2fx.css", "/ui/", "/ui/" + "a" * 200 + ".css", "/ui/app.css%00.js",
                     "/watch/", "/watch/BAD!", "/watch/" + "a" * 65, "/broadcast/x/y",
                     "/dashboard.html", "/nowhere"]:
            status, hdrs, body = self.launcher.request("GET", path)
            self.assertIn(status, (400, 404), path)
            self.assertNotIn(b"secret", body, path)
        status, hdrs, body = self.launcher.request("GET", "/nowhere")
        self.assertEqual((status, hdrs["Content-Type"]), (404, "text/plain; charset=utf-8"))

    def test_revalidation_gives_304_until_the_file_changes(self):
        status, hdrs, _ = self.launcher.request("GET", "/ui/app.css")
        etag, modified = hdrs["ETag"], hdrs["Last-Modified"]
        status, hdrs, body = self.launcher.request("GET", "/ui/app.css", headers={"If-None-Match": etag})
        self.assertEqual((status, body, hdrs.get("ETag")), (304, b"", etag))
        status, _, _ = self.launcher.request("GET", "/ui/app.css",
                                             headers={"If-Modified-Since": modified})
        self.assertEqual(status, 304)
        status, _, _ = self.launcher.request("GET", "/", headers={"If-None-Match": etag})
        self.assertEqual(status, 200, "another file's ETag matched")
        path = os.path.join(self.web, "app.css")
        with open(path, "wb") as f:
            f.write(b"body { margin: 1px }\n")
        later = time.time() + 2
        os.utime(path, (later, later))
        status, hdrs, body = self.launcher.request("GET", "/ui/app.css", headers={"If-None-Match": etag})
        self.assertEqual((status, body), (200, b"body { margin: 1px }\n"))
        self.assertNotEqual(hdrs["ETag"], etag)
        os.unlink(path)
        self.assertEqual(self.launcher.request("GET", "/ui/app.css")[0], 404)

    def test_other_routes_are_untouched(self):
        s = self.create()
        self.assertEqual(self.launcher.api("GET", "/api/streams")[0], 200)
        self.assertEqual(self.launcher.request("GET", "/metrics")[0], 200)
        self.assertEqual(self.launcher.request("OPTIONS", f"/whip/{s['id']}")[0], 204)
        self.assertEqual(self.launcher.request("GET", f"/live/{s['id']}/index.m3u8")[0], 404)
        ws = WsClient(self.launcher.port, f"/ingest/{s['id']}?key=wrong&mimeType=video%2Fwebm")
        self.assertEqual(ws.status, 401)
        ws.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
