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
    """A KeyboardInterrupt where a command turns it into `ledger: interrupted`, exit 130;
    anywhere else, that same line and exit at once.

    Raised anywhere, it was lost or reworded: inside importlib's weakref callback (`cb`) Python
    swallows it and the command ran on to exit 0; inside click's own code (parsing, loading the
    command) click prints `Aborted!` and exits 1 (both seen in the start-up signal tests).
    Nothing has been written at those moments, so stopping there is what the interrupt means."""
    if _inside_a_command(frame):
        raise KeyboardInterrupt
    _exit_interrupted()


def _inside_a_command(frame) -> bool:
    """Within a command's body (`reports_errors`, or `do`'s own handling below it) and not in
    the import machinery."""
    common = sys.modules.get("ledger.cli.common")
    command_code = getattr(common, "COMMAND_CODE", None)
    inside = False
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith("<frozen importlib"):
            return False
        if code is command_code:
            inside = True
        frame = frame.f_back
    return inside


def _exit_interrupted() -> None:
    try:
        os.write(2, b"ledger: interrupted\n")
    except OSError:
        pass
    os._exit(130)


def install_signal_handlers() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # An inherited "ignore" (nohup, a background job) is the caller's choice: kept.
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _as_interrupt)


def exits_without_teardown(argv: list[str]) -> bool:
    """`ledger do` and `ledger audit` end with `os._exit` once everything is written: the
    interpreter's own shutdown (module teardown, garbage collection, thread joins) takes about
    40 ms that a loop pays on every run and that writes nothing, and after a large audit the
    first collection alone scans every object it made (50 ms on the benchmark workspace)."""
    return argv[1:2] in (["do"], ["audit"])


def _exit_now(code: object) -> None:
    """End the process as a normal exit with `code` would, without the interpreter's teardown:
    stdout and stderr flushed, atexit handlers run (a retired file's late writes are drained
    there, ledger.editing.writes), then `os._exit`. The command has already closed its files,
    released the workspace lock and waited for its commit."""
    import atexit

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # a message: printed to stderr, exit 1, as SystemExit("...") would
        status = 1
        try:
            sys.stderr.write(f"{code}\n")
        except (OSError, ValueError):
            pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed: nothing to flush
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            # A closed pipe: the normal exit would report it and exit 120; the output is lost
            # either way, the status says so.
            status = status or 120
    os._exit(status)


def run() -> None:
    from ledger.running.early_start import discard_untaken, fork_for_do

    try:
        install_signal_handlers()
    except KeyboardInterrupt:
        _exit_interrupted()
    # Outside the try below: in the forked child this runs the tests and ends as `python -m
    # pytest` ends, its exit status or an uncaught KeyboardInterrupt included.
    fork_for_do(sys.argv)
    if exits_without_teardown(sys.argv):
        # Past the early fork (the tests' interpreter keeps its collector). A process that
        # ends with os._exit never needs the cyclic collector's scans: what it builds is
        # freed by reference counting or not at all, and the few cycles die with it.
        import gc

        gc.disable()
    try:
        from ledger.cli import main

        try:
            main(prog_name="ledger")
        except SystemExit as exc:
            discard_untaken()
            if exits_without_teardown(sys.argv):
                _exit_now(exc.code)
            raise
    except KeyboardInterrupt:
        try:
            sys.stderr.write("ledger: interrupted\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(130)
