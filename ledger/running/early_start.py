"""`ledger do`'s test interpreter forked before ledger has loaded anything of its own.

A bare `pytest SEL` starts importing pytest as soon as its interpreter is up. `ledger do` used
to start the tests' interpreter only after click, the workspace and half of ledger had been
imported (about 140 ms in), then wait for it to start and import pytest: on a sub-second
selector that delay was most of what `ledger do` cost over a bare run. When the tests will run
under ledger's own interpreter (no configured Python, no workspace venv, no other active
virtualenv: `interpreter.resolve_interpreter` decides, this module only guesses cheaply), the
first thing `ledger do` does is fork: the child becomes that interpreter, in the workspace
root, imports pytest while the parent loads ledger and prepares the run, then waits at the
same gate and runs the same bootstrap (`BOOTSTRAP`) as the spawned warm start
(`warm_start.WarmStart`), so the tests see what `python -m pytest` in the workspace root gives
them: sys.argv and sys.path[0] as `-m` sets them, a fresh `__main__`, unbuffered stdout and
stderr into ledger's pipe, stdin from /dev/null, its own session, ledger's parent-death signal,
no other descriptors, and none of ledger's modules in `sys.modules`.

Only `os`, `signal`, `sys` and `time` (built in, or imported already) are imported here: this runs before everything else.
"""

from __future__ import annotations

import os
import signal
import sys
import time

# Inherited by everything a run starts: what it leaves behind is recognised by it
# (runner._stop_leftovers).
RUN_ID_VARIABLE = "LEDGER_RUN_ID"

# Run as `python -c BOOTSTRAP GATE_FD REPLY_FD SNAPSHOT_CWD` in the workspace root (the spawned
# warm start), or executed in the early-forked child's fresh `__main__`. Everything lives in one
# function so `__main__` holds no names of its own when pytest's __main__ runs in it. Before the
# gate: sys.path[0] as `python -m` sets it, pytest imported, the snapshot written (with
# sys.path[0] as `python -c` in ledger's folder sees it, like _SNAPSHOT_SCRIPT). No go message
# (EOF): exit 0, nothing run. pytest failed to import: exec the exact cold argv, so the failure
# is `python -m pytest`'s own.
BOOTSTRAP = r"""
def _ledger_gate():
    import os, sys
    gate, reply, snapshot_cwd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    here = os.getcwd()
    sys.path[0] = here
    try:
        import pytest
        importable = True
    except BaseException:
        importable = False
    try:
        if not snapshot_cwd:
            raise LookupError("ledger reads its own interpreter in-process")
        import json, platform
        from importlib.metadata import distributions
        sys.path[0] = snapshot_cwd
        try:
            found = [[d.metadata["Name"], d.version] for d in distributions()]
        finally:
            sys.path[0] = here
        data = json.dumps({
            "python": {"version": platform.python_version(),
                       "implementation": platform.python_implementation(),
                       "executable": sys.executable, "prefix": sys.prefix},
            "distributions": found,
        }).encode()
        while data:
            data = data[os.write(reply, data):]
    except BaseException:
        pass
    os.close(reply)
    message = b""
    while True:
        chunk = os.read(gate, 1 << 16)
        if not chunk:
            break
        message += chunk
    os.close(gate)
    if not message:
        os._exit(0)
    import json
    go = json.loads(message)
    os.environ.update(go["env"])
    argv = go["argv"]
    if not importable:
        os.execv(argv[0], argv)
    sys.argv = ["-m", *argv[3:]]
    return True

if _ledger_gate():
    del _ledger_gate
    __import__("runpy")._run_module_as_main("pytest")
"""

# Options after which `ledger do` starts no tests, or whose tests run elsewhere than a guess
# from the raw arguments can tell; `--root` is read below.
_NO_EARLY_START = frozenset({"--dry-run", "--help", "-h"})
_VENV_PYTHONS = ("bin/python", "bin/python3")  # interpreter._VENV_PYTHONS, POSIX only here
# ledger.entry's handlers turn these into `ledger: interrupted`; the tests get Python's own.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class EarlyChild:
    """The forked interpreter at its gate, until `warm_start.prestart` adopts or discards it."""

    __slots__ = ("pid", "root", "gate_fd", "output_fd", "run_id")

    def __init__(self, pid: int, root: str, gate_fd: int, output_fd: int, run_id: str):
        self.pid, self.root, self.gate_fd, self.output_fd, self.run_id = (
            pid,
            root,
            gate_fd,
            output_fd,
            run_id,
        )

    def discard(self) -> None:
        """Kill it (it has run nothing of the plan's) and reap it; its pipes are closed."""
        for fd in (self.gate_fd, self.output_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        for kill in (os.killpg, os.kill):  # the group from its setsid on, the process before
            try:
                kill(self.pid, 9)
            except OSError:
                pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


_waiting: EarlyChild | None = None


def take() -> EarlyChild | None:
    """The early child, handed over once (to `warm_start.prestart`)."""
    global _waiting
    child, _waiting = _waiting, None
    return child


def discard_untaken() -> None:
    """Ledger ends without having reached the run (a usage error, a refusal before prestart):
    the child goes with it now, not only when the parent-death signal fires."""
    child = take()
    if child is not None:
        child.discard()


def fork_for_do(argv: list[str]) -> None:
    """Fork the tests' interpreter when `argv` is a `ledger do` that will, by every sign
    readable without loading ledger, run its tests under this very interpreter. In the child
    this never returns: it runs pytest and exits (SystemExit from pytest's __main__ ends the
    interpreter as `python -m pytest` would end), or exits at once when sent nothing."""
    global _waiting
    if _waiting is not None or not sys.platform.startswith("linux"):
        return
    if argv[1:2] != ["do"] or any(arg in _NO_EARLY_START for arg in argv[2:]):
        return
    root = _workspace_root(argv[2:])
    if root is None or not _tests_run_under_this_interpreter(root):
        return
    try:
        gate_r, gate_w = os.pipe()
    except OSError:
        return
    try:
        output_r, output_w = os.pipe()
    except OSError:
        os.close(gate_r)
        os.close(gate_w)
        return
    if min(gate_r, gate_w, output_r, output_w) <= 2:
        # Ledger was started with stdin, stdout or stderr closed: the child's dup2 onto 0-2
        # would clobber its own pipes. The spawned start handles that case (Popen does).
        for fd in (gate_r, gate_w, output_r, output_w):
            os.close(fd)
        return
    parent = os.getpid()
    run_id = f"{parent}-early-{time.monotonic_ns()}"
    # Blocked across the fork: a Ctrl-C then reaches the child only once it has ledger's
    # handlers undone (and stops it before it runs anything), never ledger's handler in it.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        for fd in (gate_r, gate_w, output_r, output_w):
            os.close(fd)
        return
    if pid == 0:
        _become_the_tests_interpreter(root, parent, run_id, gate_r, output_w)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    os.close(gate_r)
    os.close(output_w)
    _waiting = EarlyChild(pid, root, gate_w, output_r, run_id)


def _workspace_root(args: list[str]) -> str | None:
    """`--root`'s folder, else the nearest folder at or above the current one holding plans/
    (workspace.find_root), as a real path; None when neither is a folder."""
    given = None
    for index, arg in enumerate(args):
        if arg == "--root" and index + 1 < len(args):
            given = args[index + 1]
        elif arg.startswith("--root="):
            given = arg[len("--root=") :]
    if given is not None:
        root = os.path.realpath(os.path.expanduser(given))
        return root if os.path.isdir(root) else None
    folder = os.path.realpath(os.getcwd())
    while True:
        if os.path.isdir(os.path.join(folder, "plans")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _tests_run_under_this_interpreter(root: str) -> bool:
    """interpreter.resolve_interpreter's order, guessed from the files (config.load_config
    reads ledger.toml if there is one, else pyproject's [tool.ledger]): a `python` key in
    that file, in pyproject only under [tool.ledger], counts as a configured interpreter
    (a guess that is wrong only costs the early start)."""
    import re

    python_key = re.compile(rb"(?m)^[ \t]*[\"']?python[\"']?[ \t]*=")
    for name in ("ledger.toml", "pyproject.toml"):
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as file:
                text = file.read()
        except OSError:
            return False  # unreadable settings: ledger itself reports them
        if name == "pyproject.toml":
            table = re.search(rb"(?ms)^[ \t]*\[tool\.ledger\][^\n]*$(.*?)(?=^[ \t]*\[|\Z)", text)
            text = table.group(1) if table else b""
        if python_key.search(text):
            return False
        break  # only the first file there is holds the settings
    for venv in (
        os.path.join(root, ".venv"),
        os.path.join(root, "venv"),
        os.environ.get("VIRTUAL_ENV"),
    ):
        if not venv:
            continue
        for name in _VENV_PYTHONS:
            python = os.path.join(venv, name)
            if os.path.isfile(python) and os.access(python, os.X_OK):
                return python == sys.executable
    return True


def _become_the_tests_interpreter(
    root: str, parent: int, run_id: str, gate_fd: int, output_fd: int
) -> None:
    """In the forked child: what runner._start_cold's Popen arguments give a fresh `python -m
    pytest` (session, descriptors, environment, parent-death signal), then the bootstrap."""
    try:
        os.setsid()
        for signum in _STOP_SIGNALS:  # an inherited "ignore" stays, as in a fresh interpreter
            if signal.getsignal(signum) is not signal.SIG_IGN:
                handler = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
                signal.signal(signum, handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        _die_with(parent)
        os.chdir(root)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        reply = os.dup(null)  # the bootstrap's snapshot goes nowhere: ledger reads its own
        _close_all_but((gate_fd, reply))
        os.environ["PYTHONUNBUFFERED"] = "1"
        os.environ[RUN_ID_VARIABLE] = run_id
        _unbuffered_stdio()
        for name in [n for n in sys.modules if n == "ledger" or n.startswith("ledger.")]:
            del sys.modules[name]  # a workspace may have a package of that name
        main = type(sys)("__main__")
        main.__dict__["__builtins__"] = sys.modules["builtins"]
        sys.modules["__main__"] = main
        sys.argv = ["-c", str(gate_fd), str(reply), ""]
        code = compile(BOOTSTRAP, "<string>", "exec")
    except BaseException:
        os._exit(1)  # the parent sees it gone at the gate and starts the tests cold
    exec(code, main.__dict__)
    # The bootstrap returns only by running pytest, whose __main__ raises SystemExit; should it
    # not, the interpreter still must never run on into ledger's own code.
    raise SystemExit(0)


def _close_all_but(keep: tuple[int, ...]) -> None:
    """Every descriptor above stderr but `keep` closed, as Popen's close_fds does: nothing
    ledger (or whoever started it) had open reaches the tests."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already gone


def _die_with(parent: int) -> None:
    """PR_SET_PDEATHSIG (SIGKILL), as runner._death_signal_setter gives a cold start."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(137)


def _unbuffered_stdio() -> None:
    """stdin, stdout and stderr as PYTHONUNBUFFERED=1 makes them at start-up (the cold start's
    setting): the forked copies were made for ledger's own descriptors, possibly a terminal."""
    import io

    for name, fd in (("stdin", 0), ("stdout", 1), ("stderr", 2)):
        old = getattr(sys, name)
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        raw.name = f"<{name}>"
        stream = io.TextIOWrapper(
            io.BufferedReader(raw) if fd == 0 else raw,  # only stdin keeps a buffer under -u
            encoding=old.encoding,
            errors=old.errors,
            newline="\n",
            write_through=fd != 0,
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
