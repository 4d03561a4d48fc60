"""Runs a command under the system-call rules of a systemd unit file, as
systemd 252 would apply them, emulated with libseccomp (Debian's
python3-seccomp), for a machine where systemd is not PID 1:
SystemCallFilter= (an allow-list of @groups and names, then ~ deny-lists;
groups expanded by `systemd-analyze syscall-filter`),
SystemCallErrorNumber= (the errno refused calls get) and
MemoryDenyWriteExecute=yes (no mapping both writable and executable, no
mprotect to executable, no executable shared memory), as two stacked
filters, like systemd's.

    unitsandbox.py UNIT-FILE COMMAND [ARG...]     execs COMMAND under them
    unitsandbox.py UNIT-FILE --selftest           shows a W+X mapping refused
"""
import ctypes
import errno
import mmap
import os
import subprocess
import sys

import seccomp


def expand(entry, seen):
    """The system calls an entry of SystemCallFilter= names."""
    if not entry.startswith("@"):
        return {entry}
    out = subprocess.run(["systemd-analyze", "syscall-filter", entry], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    names = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if line.startswith("@") and line not in seen:
            seen.add(line)
            names |= expand(line, seen)
        elif line and not line.startswith("#") and not line.startswith("@"):
            names.add(line)
    return names


def unit_rules(path):
    allowed, denied, err, wx = None, set(), errno.EPERM, False
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key == "SystemCallFilter":
                deny = value.startswith("~")
                names = set()
                for entry in value.lstrip("~").split():
                    names |= expand(entry, set())
                if deny:
                    denied |= names
                else:
                    allowed = names if allowed is None else allowed | names
            elif key == "SystemCallErrorNumber":
                err = getattr(errno, value)
            elif key == "MemoryDenyWriteExecute":
                wx = value == "yes"
    return (allowed or set()) - denied, err, wx


def apply(unit):
    allowed, err, wx = unit_rules(unit)
    if wx:  # first: the allow-list may not allow seccomp() itself
        w = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        both = mmap.PROT_WRITE | mmap.PROT_EXEC
        w.add_rule(seccomp.ERRNO(errno.EPERM), "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, both, both))
        for name in ("mprotect", "pkey_mprotect"):
            w.add_rule(seccomp.ERRNO(errno.EPERM), name,
                       seccomp.Arg(2, seccomp.MASKED_EQ, mmap.PROT_EXEC, mmap.PROT_EXEC))
        shm_exec = 0o100000
        w.add_rule(seccomp.ERRNO(errno.EPERM), "shmat",
                   seccomp.Arg(2, seccomp.MASKED_EQ, shm_exec, shm_exec))
        w.load()
    if allowed:
        f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(err))
        for name in sorted(allowed):
            try:
                f.add_rule(seccomp.ALLOW, name)
            except (RuntimeError, ValueError, OSError):
                pass  # a name this architecture lacks
        f.load()


def main():
    apply(sys.argv[1])
    if sys.argv[2] == "--selftest":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        p = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC,
                      mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        print("w+x mapping", "allowed" if p not in (None, ctypes.c_void_p(-1).value) else "refused")
        print("setuid", "allowed" if libc.setuid(os.getuid()) == 0 else "refused")
        return
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
