"""castline installed like a service: `meson install --destdir` into a
temporary tree, then the installed castline-launcher run from elsewhere
with no CASTLINE_SOURCE_DIR or GST_PLUGIN_PATH: it finds its pipeline
descriptions, web pages, hls.js and plugin in the install tree (an RTMP
publisher's stream reaches HLS through the installed plugin's elements);
--check reaches the store (SQLite, and a PostgreSQL 15 the test starts)
and S3 (s3rver) and fails, with a line saying why, on a store it cannot
open, a wrong database password (never printed), a closed S3 port and a
silent one (within about 10 s); the sample
configuration checks; a reinstall keeps an edited configuration; the
installed systemd unit passes `systemd-analyze verify` (skipped when
systemd-analyze is absent), and an abr transcode runs under its
SystemCallFilter= and MemoryDenyWriteExecute= (emulated with libseccomp:
unitsandbox.py; skipped without python3-seccomp); docs/deploy.md's nginx configurations pass
`nginx -t` (skipped without nginx; the RTMP/SRT one without its stream
module, Debian's libnginx-mod-stream).

Standard library only; ffmpeg, s3rver (npm), openssl, PostgreSQL 15
(tests/pgserver.py). Environment (meson sets
it): CASTLINE_BUILD_DIR, CASTLINE_SOURCE_DIR.
Run by hand: /usr/bin/python3 tests/integration/test_install.py [-k PATTERN]
Every wait is bounded.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gstlaunch import BUILD, SOURCE  # noqa: E402
from launcherproc import Launcher, wait_for  # noqa: E402
from s3rver import S3rver, free_port  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pgserver import PG_BIN, PgServer  # noqa: E402

try:
    import seccomp  # noqa: F401 (unitsandbox.py's: Debian's python3-seccomp)
    SECCOMP = True
except ImportError:
    SECCOMP = False

WORK = None        # the temporary directory: the install tree and the cases
ROOT = None        # the --destdir
DIRS = {}          # prefix, bindir, datadir, sysconfdir, as meson was configured


def install():
    subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                    "--destdir", ROOT], check=True, capture_output=True, timeout=120)


def staged(option):
    """An install directory inside the --destdir tree."""
    path = os.path.join(DIRS["prefix"], DIRS[option])
    return ROOT + path


def setUpModule():
    global WORK, ROOT
    WORK = tempfile.mkdtemp(prefix="castline-install-test-")
    ROOT = os.path.join(WORK, "root")
    options = json.loads(subprocess.run(["meson", "introspect", BUILD, "--buildoptions"],
                                        check=True, capture_output=True, timeout=60).stdout)
    for o in options:
        if o["name"] in ("prefix", "bindir", "datadir", "sysconfdir"):
            DIRS[o["name"]] = o["value"]
    install()


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def clean_env(directory):
    """What a service's environment has: nothing of the source or build
    tree, a registry of its own."""
    env = {"PATH": "/usr/bin:/bin", "HOME": directory, "GSETTINGS_BACKEND": "memory",
           "GST_REGISTRY": os.path.join(directory, "registry.bin")}
    # but a sanitized build's options (scripts/test.sh --asan), which are
    # the test run's, not the service's
    env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "UBSAN_OPTIONS")})
    return env


class InstalledCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="case-", dir=WORK)
        self.exe = os.path.join(staged("bindir"), "castline-launcher")
        self.data = os.path.join(staged("datadir"), "castline")

    def launcher(self, **settings):
        launcher = Launcher(self.dir, **settings)
        launcher.executable = self.exe
        launcher.env = clean_env(self.dir)
        launcher.cwd = self.dir
        return launcher

    def publish_rtmp(self, launcher, body, size):
        """Creates a stream, publishes 4 s of H.264 + AAC of size to it with
        ffmpeg over RTMP, waits for it to end; its id."""
        status, s = launcher.api("POST", "/api/streams", body)
        self.assertEqual(status, 201, s)
        ffmpeg = subprocess.run(
            ["ffmpeg", "-v", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
             f"testsrc=size={size}:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
             "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30",
             "-preset", "ultrafast", "-c:a", "aac", "-f", "flv", s["rtmp_url"]],
            capture_output=True, timeout=60)
        self.assertEqual(ffmpeg.returncode, 0, ffmpeg.stderr.decode())

        def ended():
            _, got = launcher.api("GET", f"/api/streams/{s['id']}")
            return got if got["state"] in ("ended", "failed") else None
        got = wait_for(ended, 60)
        self.assertTrue(got, launcher.output())
        self.assertEqual(got["state"], "ended", got)
        return s["id"]

    def check(self, config_path):
        out = subprocess.run([self.exe, "--check", "--config", config_path], capture_output=True,
                             timeout=60, env=clean_env(self.dir), cwd=self.dir)
        return out.returncode, out.stdout.decode() + out.stderr.decode()


class InstallTreeTest(InstalledCase):
    def test_check_finds_installed_pipelines_and_elements(self):
        # a description only the install tree has: the launcher read it there
        with open(os.path.join(self.data, "pipelines", "passthrough.pipeline")) as f:
            text = f.read()
        with open(os.path.join(self.data, "pipelines", "installedcopy.pipeline"), "w") as f:
            f.write(text.replace("description:", "description: installed copy of", 1))
        try:
            code, out = self.check(self.launcher(rtmp={}).config_path)
        finally:
            os.unlink(os.path.join(self.data, "pipelines", "installedcopy.pipeline"))
        # exit 0: no element missing, although GST_PLUGIN_PATH is unset
        self.assertEqual(code, 0, out)
        self.assertIn("installedcopy\tinstalled copy of", out)
        self.assertIn("passthrough\t", out)
        self.assertIn("store: sqlite " + os.path.join(self.dir, "data", "castline.db") + " ok", out)
        self.assertIn("s3: not configured", out)

    def test_daemon_serves_pages_hlsjs_and_streams_from_the_install(self):
        dashboard = os.path.join(self.data, "web", "dashboard.html")
        with open(dashboard, "a") as f:
            f.write("<!-- the installed copy -->\n")
        launcher = self.launcher(rtmp={}).start()
        try:
            status, _, body = launcher.request("GET", "/")
            self.assertEqual(status, 200)
            self.assertIn(b"<!-- the installed copy -->", body)
            for name, package in [("hls.min.js", "hls.js"), ("uPlot.iife.min.js", "uplot"),
                                  ("uPlot.min.css", "uplot")]:
                status, _, body = launcher.request("GET", f"/ui/{name}")
                self.assertEqual(status, 200, name)
                with open(os.path.join(SOURCE, "node_modules", package, "dist", name), "rb") as f:
                    self.assertEqual(body, f.read(), name)

            # an RTMP publisher: rtmpserversrc and llhlssink are the
            # installed plugin's
            stream = self.publish_rtmp(launcher, {"title": "installed"}, "320x240")
            status, _, playlist = launcher.request("GET", f"/live/{stream}/index.m3u8")
            self.assertEqual(status, 200)
            self.assertIn(b"#EXT-X-ENDLIST", playlist)
        finally:
            self.assertEqual(launcher.stop(), 0, launcher.output())
        self.assertNotIn("CRITICAL", launcher.output())

    @unittest.skipUnless(SECCOMP and shutil.which("systemd-analyze"),
                         "python3-seccomp or systemd-analyze is not installed")
    def test_transcodes_under_the_units_system_call_rules(self):
        # systemd is not PID 1 here: the unit's SystemCallFilter= and
        # MemoryDenyWriteExecute= emulated (unitsandbox.py), and an abr
        # ladder (videoscale, videoconvert: ORC code) made under them
        unit = ROOT + os.path.join(DIRS["prefix"], "lib", "systemd", "system", "castline.service")
        sandbox = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unitsandbox.py")
        selftest = subprocess.run([sys.executable, sandbox, unit, "--selftest"],
                                  capture_output=True, text=True, timeout=60)
        self.assertEqual(selftest.stdout, "w+x mapping refused\nsetuid refused\n", selftest.stderr)
        wrapper = os.path.join(self.dir, "sandboxed-launcher")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec {sys.executable} {sandbox} {unit} {self.exe} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        launcher = self.launcher(rtmp={})
        launcher.executable = wrapper
        launcher.env["ORC_DEBUG"] = "2"     # ORC's errors (a refused code mapping)
        launcher.start()
        try:
            stream = self.publish_rtmp(launcher, {"title": "sandboxed", "pipeline": "abr"},
                                       "1280x720")
            rungs = os.listdir(os.path.join(self.dir, "data", "live", stream))
            self.assertIn("360p", rungs)
        finally:
            self.assertEqual(launcher.stop(), 0, launcher.output())
        out = launcher.output()
        self.assertNotIn("ORC: ERROR", out)
        self.assertNotIn("CRITICAL", out)

    def test_sample_configuration_checks(self):
        with open(os.path.join(self.data, "castline.json.sample")) as f:
            config = json.load(f)
        self.assertEqual(config["data_dir"], "/var/lib/castline")
        # where this test may write and listen
        config.update({"data_dir": os.path.join(self.dir, "data"), "port": free_port(),
                       "rtmp": {"port": free_port()}, "srt": {"port": 0}})
        path = os.path.join(self.dir, "sample.json")
        with open(path, "w") as f:
            json.dump(config, f)
        code, out = self.check(path)
        self.assertEqual(code, 0, out)

    def test_reinstall_keeps_an_edited_configuration(self):
        config = os.path.join(staged("sysconfdir"), "castline", "castline.json")
        with open(os.path.join(self.data, "castline.json.sample")) as sample, open(config) as f:
            self.assertEqual(f.read(), sample.read())
        with open(config, "w") as f:
            f.write('{"port": 9999}\n')
        install()
        with open(config) as f:
            self.assertEqual(f.read(), '{"port": 9999}\n')
        os.unlink(config)
        install()
        self.assertTrue(os.path.exists(config))

    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_systemd_unit_verifies(self):
        with open(ROOT + os.path.join(DIRS["prefix"], "lib", "systemd", "system",
                                      "castline.service")) as f:
            text = f.read()
        exec_start = os.path.join(DIRS["prefix"], DIRS["bindir"], "castline-launcher")
        self.assertIn(f"ExecStart={exec_start} --config "
                      + os.path.join(DIRS["prefix"], DIRS["sysconfdir"], "castline",
                                     "castline.json"), text)
        # verify checks that ExecStart's file is executable: the staged one
        # (--root would want a whole system's units in the tree)
        unit = os.path.join(self.dir, "castline.service")
        with open(unit, "w") as f:
            f.write(text.replace(f"ExecStart={exec_start}", f"ExecStart={self.exe}"))
        out = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, timeout=60)
        said = out.stdout.decode() + out.stderr.decode()
        # an unknown or misspelt setting is only a warning: none allowed
        self.assertEqual((out.returncode, said), (0, ""))


NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


@unittest.skipUnless(shutil.which("nginx"), "nginx is not installed")
class DeployDocNginxTest(unittest.TestCase):
    """The nginx configurations docs/deploy.md gives, as written there,
    pass `nginx -t` (with a throw-away certificate in place of its paths)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nginx-", dir=WORK)
        with open(os.path.join(SOURCE, "docs", "deploy.md")) as f:
            self.doc = f.read()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=live.example.com",
                        "-keyout", os.path.join(self.dir, "privkey.pem"),
                        "-out", os.path.join(self.dir, "fullchain.pem")],
                       check=True, capture_output=True, timeout=60)

    def nginx_t(self, http="", top=""):
        temp = "\n".join(f"{kind}_temp_path {self.dir}/{kind};"
                          for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"pid {self.dir}/nginx.pid;\nerror_log stderr;\n{top}\nevents {{}}\n"
                    f"http {{\naccess_log off;\n{temp}\n"
                    + http.replace("/etc/ssl/live.example.com/", self.dir + "/") + "\n}\n")
        out = subprocess.run(["nginx", "-t", "-q", "-p", self.dir, "-c", conf, "-e", "stderr"],
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())

    def test_one_node_proxy(self):
        block = re.search(r"sites-available/castline >/dev/null <<'EOF'\n(.*?)\nEOF\n", self.doc,
                          re.S)
        self.assertTrue(block)
        self.nginx_t(http=block.group(1))

    def test_load_balancer(self):
        blocks = re.findall(r"```nginx\n(.*?)```", self.doc, re.S)
        http = [b for b in blocks if "upstream castline_nodes" in b]
        self.assertEqual(len(http), 1)
        self.nginx_t(http=http[0])

    @unittest.skipUnless(os.path.exists(NGINX_STREAM_MODULE),
                         "nginx's stream module is not installed (libnginx-mod-stream)")
    def test_load_balancer_rtmp_and_srt(self):
        blocks = re.findall(r"```nginx\n(.*?)```", self.doc, re.S)
        stream = [b for b in blocks if b.startswith("stream {")]
        self.assertEqual(len(stream), 1)
        self.nginx_t(top=f"load_module {NGINX_STREAM_MODULE};\n" + stream[0])


class ReachabilityTest(InstalledCase):
    def test_check_reaches_s3(self):
        with S3rver(SOURCE) as s3:
            launcher = self.launcher(s3={"endpoint": s3.endpoint, "bucket": "live",
                                         "access_key": "S3RVER", "secret_key": "S3RVER",
                                         "public_base_url": s3.endpoint + "/live"})
            code, out = self.check(launcher.config_path)
        self.assertEqual(code, 0, out)
        self.assertIn(f"s3: bucket live at {s3.endpoint} ok", out)
        self.assertNotIn("S3RVER", out)

    def test_check_fails_on_a_closed_s3_port(self):
        endpoint = f"http://127.0.0.1:{free_port()}"
        launcher = self.launcher(s3={"endpoint": endpoint, "bucket": "live",
                                     "access_key": "AKIDEXAMPLE", "secret_key": "not-printed",
                                     "public_base_url": "http://cdn.example/live"})
        code, out = self.check(launcher.config_path)
        self.assertEqual(code, 1, out)
        lines = [line for line in out.splitlines() if line.startswith("s3: ")]
        self.assertEqual(len(lines), 1, out)
        self.assertTrue(lines[0].startswith(f"s3: bucket live at {endpoint}: "), lines)
        self.assertNotIn("not-printed", out)

    def test_check_gives_up_on_a_silent_s3_within_about_10_s(self):
        with socket.socket() as silent:     # accepts connections (the backlog), never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
            launcher = self.launcher(s3={"endpoint": endpoint, "bucket": "live",
                                         "access_key": "AKIDEXAMPLE", "secret_key": "x",
                                         "public_base_url": "http://cdn.example/live"})
            started = time.monotonic()
            code, out = self.check(launcher.config_path)
            took = time.monotonic() - started
        self.assertEqual(code, 1, out)
        self.assertIn(f"s3: bucket live at {endpoint}: S3 Timeout", out)
        self.assertLess(took, 12, out)

    @unittest.skipUnless(os.path.exists(os.path.join(PG_BIN, "postgres")),
                         "PostgreSQL 15 is not installed")
    def test_check_reaches_postgresql_and_never_prints_its_password(self):
        with PgServer() as pg:
            launcher = self.launcher(store={"url": pg.url})
            code, out = self.check(launcher.config_path)
            self.assertEqual(code, 0, out)
            self.assertRegex(out, r"(?m)^store: postgresql .* ok$")
            self.assertNotIn(pg.password, out)

            wrong = pg.url.replace(pg.password, "wrong-password")
            launcher = self.launcher(store={"url": wrong})
            code, out = self.check(launcher.config_path)
        self.assertEqual(code, 1, out)
        self.assertIn("store: postgresql://castline:***@", out)
        self.assertNotIn("wrong-password", out)

    def test_check_fails_on_a_store_it_cannot_open(self):
        launcher = self.launcher(store={"url": "sqlite:/proc/forbidden/x.db"})
        code, out = self.check(launcher.config_path)
        self.assertEqual(code, 1, out)
        self.assertIn("store: sqlite:/proc/forbidden/x.db: ", out)


if __name__ == "__main__":
    unittest.main()
