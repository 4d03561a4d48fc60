"""A small file system that fills up: a tmpfs of a few megabytes mounted
in the test's own mount namespace, so the machine's mounts never see it
and it goes when the test's processes do. Root only (the test machines
run as root). Standard library only.

Call in_own_mount_namespace() first thing in a test file's __main__: it
runs the file again under `unshare -m --propagation private` (once);
then SmallDisk(path, megabytes) mounts, and every process the test starts
(the launcher) writes into it. keep_full() makes a full disk stay full:
a thread takes every page that comes free (a temporary file removed, a
write that failed and unlinked its file) until free_up()."""
import errno
import os
import shutil
import subprocess
import sys
import threading
import time

_MARK = "CASTLINE_OWN_MOUNT_NAMESPACE"


def in_own_mount_namespace():
    """Re-executes this Python script in a private mount namespace, unless
    it runs in one already. Does not return in the first process."""
    if os.environ.get(_MARK) == "1":
        return
    os.environ[_MARK] = "1"
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    os.execv(unshare, [unshare, "-m", "--propagation", "private", sys.executable,
                       os.path.abspath(sys.argv[0]), *sys.argv[1:]])


class SmallDisk:
    """A tmpfs of `megabytes` at path (created), mounted until unmount()."""

    def __init__(self, path, megabytes):
        if os.environ.get(_MARK) != "1":
            raise RuntimeError("call smalldisk.in_own_mount_namespace() first")
        self.path = path
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", path],
                       check=True, timeout=10)

    def free_bytes(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def keep_full(self):
        """Takes every free page of the disk now and as they come free."""
        self.ballast_stop = threading.Event()
        self.ballast = threading.Thread(target=self._take_pages, daemon=True)
        self.ballast.start()

    def _take_pages(self):
        # one write takes whatever came free (a short write); then a short
        # nap: a file the daemon removes is taken back within a millisecond
        chunk = bytes(4 << 20)
        with open(os.path.join(self.path, "ballast"), "ab", buffering=0) as f:
            while not self.ballast_stop.is_set():
                try:
                    f.write(chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    time.sleep(0.0005)

    def free_up(self):
        """Ends keep_full() and gives its pages back."""
        self.ballast_stop.set()
        self.ballast.join(10)
        os.remove(os.path.join(self.path, "ballast"))

    def unmount(self):
        if getattr(self, "ballast", None):
            self.ballast_stop.set()
            self.ballast.join(10)
        subprocess.run(["umount", "-l", self.path], check=False, timeout=10)
