"""The `ledger` executable's entry point: signals handled from the first moment.

A loop's supervisor may stop ledger at any time, including while Python still imports
it: Ctrl-C, SIGTERM and SIGHUP (a closed terminal or ssh session) all end it the same
way, one `ledger: interrupted` line and exit 130, never a traceback. Commands that must
finish a record first (`do`) install their own handlers on top of these.
"""

from __future__ import annotations

import os
import signal
import sys


def _as_interrupt(signum, frame):
    raise KeyboardInterrupt


def install_signal_handlers() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        # An inherited "ignore" (nohup, a background job) is the caller's choice: kept.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _as_interrupt)


def run() -> None:
    try:
        install_signal_handlers()
        from ledger.cli import main

        main(prog_name="ledger")
    except KeyboardInterrupt:
        try:
            sys.stderr.write("ledger: interrupted\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(130)
