"""What the integration tests share for running GStreamer: where the build
is, the environment gst-launch-1.0 needs for castline's plugin, and a
bounded background gst-launch-1.0 run.

Environment (meson sets it, see meson.build):
  CASTLINE_BUILD_DIR   the build tree; the plugin is in <it>/gst-plugins
  CASTLINE_SOURCE_DIR  the source tree (node_modules holds the npm peers)
  CASTLINE_PRELOAD     the sanitizer runtime to preload into gst-launch-1.0
                       when the plugin is built with sanitizers (optional)
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

SOURCE = os.environ.get("CASTLINE_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("CASTLINE_BUILD_DIR", os.path.join(SOURCE, "build"))
PLUGIN_DIR = os.path.join(BUILD, "gst-plugins")


def gst_env(extra=None):
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = PLUGIN_DIR
    env.pop("GST_DEBUG", None)
    if os.environ.get("CASTLINE_GST_DEBUG"):     # by hand: the launcher's and gst-launch's GST_DEBUG
        env["GST_DEBUG"] = os.environ["CASTLINE_GST_DEBUG"]
    if os.environ.get("CASTLINE_PRELOAD"):
        env["LD_PRELOAD"] = os.environ["CASTLINE_PRELOAD"]
    env.update(extra or {})
    return env


class Launch:
    """gst-launch-1.0 -e -m in the background; finish() stops it with SIGINT
    (with -e: EOS, so the final playlist is written) and waits, bounded.
    The output goes to a file: a pipe nobody reads would fill and stall it."""

    def __init__(self, pipeline, env=None, args=()):
        self.log = tempfile.TemporaryFile(mode="w+", errors="replace")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(["gst-launch-1.0", "-e", "-m", *args] + pipeline.split(),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=gst_env(env))
        self.output = ""
        self.ended = None

    def finish(self, interrupt=True, timeout=60):
        if interrupt and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        stacks = ""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if shutil.which("gdb"):  # say where it hangs
                try:
                    stacks = subprocess.run(
                        ["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt 15"],
                        capture_output=True, text=True, timeout=60).stdout
                except subprocess.TimeoutExpired:
                    pass
            self.proc.kill()
            self.proc.wait()
        self.ended = time.monotonic()
        self.log.seek(0)
        self.output = self.log.read()
        self.log.close()
        if self.proc.returncode == -signal.SIGKILL:
            raise AssertionError("gst-launch-1.0 did not end in time:\n" + self.output[-3000:]
                                 + "\n" + stacks)
        return self.proc.returncode

    def kill(self):
        """Cleanup for a test that failed before finish()."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self.log.close()



def require_tools(*tools):
    """Missing prerequisites are failures, not skips: setup.sh installs them."""
    for tool in ("gst-launch-1.0", "gst-inspect-1.0", *tools):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is not installed (scripts/setup.sh)")
    if not os.path.exists(os.path.join(PLUGIN_DIR, "libgstcastline.so")):
        raise RuntimeError(f"no castline plugin in {PLUGIN_DIR}: build first "
                           "(or set CASTLINE_BUILD_DIR)")
