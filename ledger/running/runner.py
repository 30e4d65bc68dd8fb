"""Run one pytest invocation as an argv list: live output, a log, a timeout, peak memory.

The child gets its own session (process group), so a timeout or Ctrl-C can stop
everything it spawned (DataLoader workers, subprocess tests), not just pytest.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.running.early_start import RUN_ID_VARIABLE

if TYPE_CHECKING:
    from ledger.running.warm_start import WarmStart

Echo = Callable[[str], None]

# How long a stopped process group gets between SIGINT/SIGTERM and SIGKILL.
# pytest needs a few seconds of CPU to write its KeyboardInterrupt summary on a loaded machine
# (3.5 s measured on a shared 2-core box): a shorter grace lost it from the log.
GRACE_S = 10.0
# After SIGTERM/SIGHUP (ledger.errors.Terminated) the sender usually SIGKILLs ledger 5 s later:
# the group gets less, so the interrupted run is still recorded in time.
TERMINATED_GRACE_S = 3.0
# With no output for this long, print a heartbeat so a loop's log shows the run is alive.
HEARTBEAT_S = 30.0
# Sampling the process tree costs CPU the tests would use; the kernel's own peak
# (wait4's ru_maxrss) covers the pytest process exactly, sampling adds its workers.
RSS_SAMPLE_S = 0.5


@dataclass(frozen=True)
class RunRequest:
    argv: Sequence[str]
    env_overrides: dict[str, str]
    cwd: Path
    log_path: Path
    timeout_s: float | None = None
    # The previous passing run's duration, for the progress lines; or a function giving it,
    # asked only when a line is printed (ledger do reads the row's history while the tests run).
    previous_duration_s: float | Callable[[], float | None] | None = None
    # A pre-started interpreter at its gate (ledger.running.warm_start), used when it can run
    # exactly this argv; otherwise it is abandoned and the run starts cold.
    warm: WarmStart | None = None

    def previous(self) -> float | None:
        value = self.previous_duration_s
        return value() if callable(value) else value


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    duration_s: float
    timed_out: bool
    interrupted: bool
    peak_rss_bytes: int | None
    started_at: str
    finished_at: str
    terminated: bool = False  # interrupted by SIGTERM/SIGHUP rather than Ctrl-C


def pytest_argv(
    command: Sequence[str],
    junit_path: Path,
    own_options: Sequence[str] = (),
    python: str | None = None,
) -> list[str]:
    """`pytest ARGS…` as run under `python` (default: this interpreter), with a JUnit report at `junit_path`
    and ledger's `own_options` (cache and basetemp, `selector_policy.ledger_run_options`).

    `python -m pytest` rather than whatever `pytest` is first on PATH: the evidence
    must come from the environment the snapshot describes (ledger/running/interpreter.py picks it).
    """
    if not command or command[0] != "pytest":
        raise ValueError(f"not a pytest command: {list(command)!r}")
    return [
        python or sys.executable,
        "-m",
        "pytest",
        *command[1:],
        f"--junitxml={junit_path}",
        *own_options,
    ]


def format_elapsed(elapsed_s: float, previous_s: float | None) -> str:
    text = f"elapsed {elapsed_s:.1f}s"
    if previous_s:
        ratio = elapsed_s / previous_s if previous_s > 0 else float("inf")
        text += f" (previous passing run {previous_s:.1f}s, {ratio:.2f}x)"
    else:
        text += " (no previous passing run)"
    return text


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _PeakRss:
    """Samples the resident memory of a process and all its descendants."""

    def __init__(self, pid: int):
        self.peak: int | None = None
        # Every descendant seen while the run lasted, by pid and start time: what is left of
        # them once pytest exits (setsid() daemons included) is stopped.
        self.seen: dict[int, float] = {}
        self._pid = pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ledger-rss", daemon=True)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)

    def _loop(self) -> None:
        import psutil

        try:
            root = psutil.Process(self._pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            total = 0
            try:
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    total += process.memory_info().rss
                    if process.pid != self._pid and process.pid not in self.seen:
                        self.seen[process.pid] = process.create_time()
                except psutil.Error:
                    pass
            if total and (self.peak is None or total > self.peak):
                self.peak = total
            self._stop.wait(RSS_SAMPLE_S)


class _LineEcho:
    """Turns raw output chunks into whole lines for `echo`; the log keeps raw bytes."""

    def __init__(self, echo: Echo):
        self._echo = echo
        self._pending = b""

    def feed(self, chunk: bytes) -> None:
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            self._echo(line.rstrip(b"\r").decode("utf-8", errors="replace"))

    def flush(self) -> None:
        if self._pending:
            self._echo(self._pending.decode("utf-8", errors="replace"))
            self._pending = b""


class _TestProcess(subprocess.Popen):
    """The pytest process, with what ledger notes about it while it runs."""

    ledger_run_id: str | None = None
    ledger_max_rss: int | None = None  # bytes, from wait4 once reaped
    ledger_ended: float | None = None  # monotonic time its exit was seen


def _reap(process: _TestProcess, timeout: float | None = None) -> bool:
    """Wait for the child with wait4, keeping its peak RSS; False when `timeout` passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while process.returncode is None:
        flags = 0 if deadline is None else os.WNOHANG
        pid, status, usage = os.wait4(process.pid, flags)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            process.ledger_max_rss = usage.ru_maxrss * 1024  # Linux reports KiB
            break
        if deadline is None or time.monotonic() >= deadline:  # None: wait4 blocked until it exited
            return False
        time.sleep(0.02)
    return True


@contextmanager
def _interrupts_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.signal(signum, lambda *_: None) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_group(
    process: _TestProcess, first_signal: int, log, lines: _LineEcho, grace_s: float | None = None
) -> None:
    """Ask the whole group to stop, keep what it prints meanwhile, SIGKILL what is left after
    the grace period (`grace_s`, default GRACE_S read at call time)."""
    _signal_group(process.pid, first_signal)
    _copy_until(process, log, lines, time.monotonic() + (GRACE_S if grace_s is None else grace_s))
    # Grandchildren may outlive pytest itself and hold the pipe open; kill the group regardless.
    _signal_group(process.pid, signal.SIGKILL)
    _copy_until(process, log, lines, time.monotonic() + 1.0)
    _reap(process)


def _copy_until(process, log, lines: _LineEcho, deadline: float) -> None:
    """Copy output until the pipe closes and the process exits, or until `deadline`."""
    fd = process.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        open_pipe = True
        while time.monotonic() < deadline:
            if not open_pipe:
                _reap(process, max(0.0, deadline - time.monotonic()))
                return
            if selector.select(min(0.1, max(0.0, deadline - time.monotonic()))):
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    open_pipe = False
                    continue
                log.write(chunk)
                lines.feed(chunk)


def run_streaming(request: RunRequest, echo: Echo) -> RunResult:
    """Run `request.argv`, copying its output to the log as bytes and to `echo` as lines."""
    request.log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    clock = time.monotonic()
    deadline = clock + request.timeout_s if request.timeout_s else None
    timed_out = interrupted = terminated = False
    lines = _LineEcho(echo)
    _become_subreaper()
    with request.log_path.open("wb") as log:
        process = _start_warm(request) or _start_cold(request)
        with _PeakRss(process.pid) as rss:
            try:
                timed_out = _pump(process, log, lines, deadline, clock, request.previous, echo)
            except KeyboardInterrupt as exc:
                from ledger.errors import Terminated

                interrupted, terminated = True, isinstance(exc, Terminated)
                echo("[ledger] interrupted: stopping the test process group")
                # A second Ctrl-C while the group winds down must not abandon it half-stopped.
                with _interrupts_ignored():
                    _stop_group(
                        process,
                        signal.SIGINT,
                        log,
                        lines,
                        TERMINATED_GRACE_S if terminated else None,
                    )
            if timed_out:
                echo(
                    f"[ledger] timeout after {request.timeout_s:g}s: killing the test process group"
                )
                _stop_group(process, signal.SIGTERM, log, lines)
            _reap(process)
            exit_code = process.returncode
            leftovers = _stop_leftovers(process, rss.seen)
        if leftovers:
            echo(
                f"[ledger] stopped {leftovers} process(es) the tests left running after pytest exited"
            )
        lines.flush()
        log.flush()
        os.fsync(log.fileno())
    # pytest's own time: until it exited, not until the processes it leaked let go of the pipe.
    duration = (getattr(process, "ledger_ended", None) or time.monotonic()) - clock
    echo(f"[ledger] {format_elapsed(duration, request.previous())}")
    return RunResult(
        exit_code=exit_code,
        duration_s=duration,
        timed_out=timed_out,
        interrupted=interrupted,
        terminated=terminated,
        peak_rss_bytes=max(
            filter(None, (rss.peak, getattr(process, "ledger_max_rss", None))), default=None
        ),
        started_at=_iso(started),
        finished_at=_iso(time.time()),
    )


def _start_warm(request: RunRequest) -> _TestProcess | None:
    """The pre-started interpreter, sent `request.argv`, when it can run exactly that."""
    warm = request.warm
    if warm is None:
        return None
    if not warm.can_run(request.argv, request.cwd, request.env_overrides):
        warm.abandon()
        return None
    return warm.go(request.argv, request.env_overrides)


def _start_cold(request: RunRequest) -> _TestProcess:
    run_id = f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
    # Inherited by everything the run starts: what it leaves behind is recognised by it.
    env = {**os.environ, **request.env_overrides, "PYTHONUNBUFFERED": "1", RUN_ID_VARIABLE: run_id}
    process = _TestProcess(
        list(request.argv),
        cwd=request.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # A SIGKILLed ledger takes pytest with it.
        preexec_fn=_death_signal_setter(),
    )
    process.ledger_run_id = run_id
    return process


def _pump(
    process, log, lines: _LineEcho, deadline, clock, previous_s: Callable[[], float | None], echo
) -> bool:
    """Copy output until pytest exits (then drain briefly) or the pipe closes and it exits.
    Returns True when the deadline passed first."""
    fd = process.stdout.fileno()
    os.set_blocking(fd, False)
    last_output = time.monotonic()
    pidfd = _pidfd(process.pid)
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ, "output")
            if pidfd is not None:
                selector.register(pidfd, selectors.EVENT_READ, "exit")
            while True:
                if _exited(process):
                    break
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return True
                # Without a pidfd the exit is noticed by polling.
                wait = (
                    (0.5 if pidfd is not None else 0.1)
                    if deadline is None
                    else max(0.0, min(0.5, deadline - now))
                )
                events = selector.select(wait)
                for key, _ in events:
                    if key.data == "exit":
                        continue  # _exited() reaps it at the top of the loop
                    try:
                        chunk = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        # The pipe closed; the process may still be running (it closed stdout itself).
                        remaining = (
                            None if deadline is None else max(0.0, deadline - time.monotonic())
                        )
                        reaped = _reap(process, remaining)
                        _note_end(process)
                        return not reaped
                    log.write(chunk)
                    lines.feed(chunk)
                    last_output = time.monotonic()
                if not events and time.monotonic() - last_output >= HEARTBEAT_S:
                    echo(
                        f"[ledger] still running, {format_elapsed(time.monotonic() - clock, previous_s())}"
                    )
                    last_output = time.monotonic()
    finally:
        if pidfd is not None:
            os.close(pidfd)
    # pytest exited: what it printed last is still in the pipe. Drain it briefly; a process it
    # leaked (a setsid() daemon) may hold the pipe open for ever, and is stopped next.
    _drain(process, log, lines, time.monotonic() + DRAIN_S)
    return False


# After pytest exits, how long its output is still read before leftovers are stopped.
DRAIN_S = 1.0


def _exited(process) -> bool:
    if process.returncode is None and not _reap(process, 0.0):
        return False
    _note_end(process)
    return True


def _note_end(process) -> None:
    if getattr(process, "ledger_ended", None) is None:
        process.ledger_ended = time.monotonic()


def _drain(process, log, lines: _LineEcho, deadline: float) -> None:
    fd = process.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(max(0.0, min(0.1, deadline - time.monotonic()))):
                continue
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                return
            log.write(chunk)
            lines.feed(chunk)


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits (Linux 5.3+), else None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _stop_leftovers(process, seen: dict[int, float]) -> int:
    """SIGKILL what the run left behind once pytest is gone: its process group, every
    descendant seen while it ran (setsid() ones have left the group), and orphans of the
    run reparented to ledger (its subreaper) in another session that carry this run's id in
    their environment. Returns how many."""
    import psutil

    _signal_group(process.pid, signal.SIGKILL)
    own_session = os.getsid(0)
    targets: dict[int, psutil.Process] = {}
    for pid, created in seen.items():
        try:
            candidate = psutil.Process(pid)
            if abs(candidate.create_time() - created) < 0.01:
                targets[pid] = candidate
        except psutil.Error:
            pass
    run_id = getattr(process, "ledger_run_id", None)
    # The early-forked interpreter (warm_start._ForkedTestProcess) only ever runs `do`'s one
    # run, and its own environment block (what /proc shows) is ledger's: what it forks without
    # an exec carries no run id there, but every orphan in another session is this run's.
    sole_run = getattr(process, "ledger_sole_run", False)
    try:
        for child in psutil.Process().children(recursive=True):
            try:
                # Only this run's orphans: other runs of this process (verify's parallel jobs)
                # have children here too, with their own run id.
                if os.getsid(child.pid) != own_session and (
                    sole_run or (run_id and child.environ().get(RUN_ID_VARIABLE) == run_id)
                ):
                    targets[child.pid] = child
            except (OSError, psutil.Error):
                pass
    except psutil.Error:
        pass
    stopped = 0
    for candidate in targets.values():
        try:
            if candidate.status() == psutil.STATUS_ZOMBIE:
                continue
            candidate.kill()
            stopped += 1
        except psutil.Error:
            pass
    for candidate in targets.values():
        # Reparented orphans are ledger's children now (subreaper): reap them.
        try:
            candidate.wait(timeout=2)
        except (psutil.Error, psutil.TimeoutExpired):
            pass
    return stopped


_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _death_signal_setter():
    """A `preexec_fn` that makes the child die with ledger (PR_SET_PDEATHSIG, SIGKILL), set in
    the forked child before it execs pytest (the setting survives execve); None off Linux.

    `preexec_fn` is unsafe only where the child, between fork and exec, needs a lock a parent
    thread held at fork time. This one needs none: libc's prctl is looked up here, in the
    parent, so the child makes two system calls through an already-resolved function pointer
    (no import, no dlopen/dlsym, no I/O, no logging) and `os._exit`s if ledger is already gone.
    It replaces a `python -S -c` wrapper that exec'd pytest: a whole interpreter start (tens
    of ms) on every run."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    ledger_pid, kill = os.getpid(), int(signal.SIGKILL)

    def die_with_ledger() -> None:
        with suppress(Exception):  # a child that cannot set it still runs, as before
            prctl(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        # Ledger died between fork and prctl: the signal will never come, so stop now.
        if os.getppid() != ledger_pid:
            os._exit(137)

    return die_with_ledger


_subreaper_set = False


def _become_subreaper() -> None:
    """Orphans of the test run (a daemon whose parent exited) are reparented to ledger, not
    init, so they can be found and stopped after the run."""
    global _subreaper_set
    if _subreaper_set or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _subreaper_set = True
    except (OSError, AttributeError):
        pass
