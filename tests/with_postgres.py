#!/usr/bin/env python3
"""Runs a command with a PostgreSQL server of its own:

    tests/with_postgres.py CMD [ARGS...]

starts a fresh server (tests/pgserver.py), exports its URL as
CASTLINE_TEST_PG_URL, runs CMD, stops and removes the server, and exits
with CMD's status. CMD may restart the server (a database restarted under
a running castline) by sending SIGUSR1 to CASTLINE_TEST_PG_RESTART_PID:
the server stops (clients cut off) and starts again on the same port."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgserver import PgServer  # noqa: E402


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with PgServer() as pg:
        signal.signal(signal.SIGUSR1, lambda *_: pg.restart())
        env = dict(os.environ, CASTLINE_TEST_PG_URL=pg.url,
                   CASTLINE_TEST_PG_RESTART_PID=str(os.getpid()))
        status = subprocess.call(sys.argv[1:], env=env)
        if status != 0:
            sys.stderr.write("with_postgres: the server's log:\n" + pg.log()[-4000:])
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
