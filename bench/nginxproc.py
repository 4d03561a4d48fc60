"""nginx as the benchmarks run it: this user, a prefix and configuration
of its own in a temporary directory, in the foreground, listening on
127.0.0.1 only. The caller gives the configuration's http { } and/or
rtmp { } blocks; this file adds the main part every run shares. Standard
library only; tests/integration must be on sys.path (benchlib.setup_paths)."""
import os
import pwd
import signal
import socket
import subprocess

from launcherproc import wait_for
from s3rver import free_port

# Debian's libnginx-mod-rtmp (bench/setup.sh) puts it here
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


class Nginx:
    """One nginx: start(blocks) writes prefix/nginx.conf and runs it until
    every port in wait_ports answers; stop() ends it gracefully. `port` is
    a free port for the caller's http server block."""

    def __init__(self, workdir, name="nginx", worker_processes="auto"):
        self.dir = os.path.join(workdir, name)
        self.tmp = os.path.join(self.dir, "tmp")
        self.port = free_port()
        self.worker_processes = worker_processes
        self.proc = None
        self.log = None

    def start(self, blocks, modules=(), wait_ports=None):
        os.makedirs(self.tmp, exist_ok=True)
        # as root nginx would hand its workers to "nobody", who cannot read
        # a private temporary directory
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        loads = "".join(f"load_module {m};\n" for m in modules)
        conf = f"""{loads}
{user}
daemon off;
master_process on;
worker_processes {self.worker_processes};
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 8192; }}
{blocks}
"""
        path = os.path.join(self.dir, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.log = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen(["nginx", "-p", self.dir, "-c", path,
                                      "-e", os.path.join(self.dir, "error.log")],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        ports = wait_ports if wait_ports is not None else [self.port]
        if not wait_for(lambda: all(self._listening(p) for p in ports), 10):
            self.stop()
            raise RuntimeError("nginx did not listen: " + self.errors())
        return self

    def http_temp_paths(self):
        """The temp_path lines of an http { } block, inside the prefix."""
        return "".join(f"  {what}_temp_path {self.tmp}/{what};\n"
                       for what in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))

    def _listening(self, port):
        if self.proc.poll() is not None:
            raise RuntimeError("nginx exited: " + self.errors())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def errors(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)     # graceful: workers finish, then exit
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.log:
            self.log.close()
            self.log = None
