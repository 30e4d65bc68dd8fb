"""A pre-started, gated test interpreter: `ledger do`'s tests start without waiting for Python.

Starting the tests' interpreter and importing pytest takes a good part of a sub-second run.
`ledger do` starts that interpreter as soon as it knows the workspace (before the run's own
modules are imported and the plan is read), running `_BOOTSTRAP`: it imports pytest, writes
back what the environment snapshot needs (its python info and installed distributions), then
blocks reading a gate pipe. Nothing plan-dependent happens in it before the gate opens.

Ledger then parses the plan, resolves the selector, applies the selector policy and stages
the report folder exactly as for a cold start. Only then does the runner send the go message,
the validated argv and environment overrides; the child applies them and runs pytest as
`python -m pytest ARGS` would (`runpy._run_module_as_main`, sys.argv and sys.path[0] as -m sets
them). On a refusal, a dry run, any error, or an interpreter, folder or override the child
cannot honour, the gate is closed without a message: the child exits at once, running
nothing, and is reaped (`abandon`). The cold start (runner.run_streaming's Popen) remains for
those cases.

Overrides that act only at interpreter start (every `PYTHON*` name, PYTHONHASHSEED included)
cannot be applied after the fact: only names known to be read lazily, once the tests import
what reads them (`LAZY_ENV`), go through the gate; any other takes the cold start.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ledger.running.early_start import BOOTSTRAP, RUN_ID_VARIABLE, EarlyChild, take

# Read by CUDA, OpenMP/BLAS, TensorFlow or tokenizers when the tests load them, never by the
# interpreter or pytest's own import: setting them after the gate is setting them before the
# tests. Anything else (a PYTHON* name, a configured env of the workspace's own) is cold.
LAZY_ENV = frozenset(
    {
        "CUDA_VISIBLE_DEVICES",
        "HIP_VISIBLE_DEVICES",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "TF_CPP_MIN_LOG_LEVEL",
        "TF_DETERMINISTIC_OPS",
        "CUBLAS_WORKSPACE_CONFIG",
        "TOKENIZERS_PARALLELISM",
    }
)

# The bootstrap is early_start's: the same code runs in a spawned and in a forked child.
_BOOTSTRAP = BOOTSTRAP

# How long the snapshot waits for the child's answer before falling back to a cold snapshot.
REPLY_TIMEOUT_S = 30.0


class WarmStart:
    """The pre-started interpreter of one `ledger do`, waiting at its gate."""

    def __init__(self, python: str, cwd: Path, run_id: str, process, gate_fd: int, reply_fd: int):
        self.python = python
        self.cwd = cwd
        self.run_id = run_id
        self.process = process
        self._gate = gate_fd
        self._reply = reply_fd
        self._reply_data: dict | None = None
        self.used = False

    @classmethod
    def start(cls, python: str, cwd: Path) -> WarmStart | None:
        """Start `python` at the gate in `cwd`; None when it cannot be started (the cold start
        then reports whatever is wrong, as today). The snapshot is asked of it only when it is
        not ledger's own interpreter (ledger reads its own in-process)."""
        import threading
        import time

        from ledger.running.runner import (
            _become_subreaper,
            _death_signal_setter,
            _TestProcess,
        )

        if not sys.platform.startswith("linux"):
            return None
        run_id = f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", RUN_ID_VARIABLE: run_id}
        gate_r, gate_w = os.pipe()
        reply_r, reply_w = os.pipe()
        _become_subreaper()
        try:
            process = _TestProcess(
                [
                    python,
                    "-c",
                    _BOOTSTRAP,
                    str(gate_r),
                    str(reply_w),
                    "" if python == sys.executable else os.getcwd(),
                ],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(gate_r, reply_w),
                # A SIGKILLed ledger takes it with it, at the gate or running the tests.
                preexec_fn=_death_signal_setter(),
            )
        except (OSError, subprocess.SubprocessError):
            for fd in (gate_r, gate_w, reply_r, reply_w):
                os.close(fd)
            return None
        os.close(gate_r)
        os.close(reply_w)
        os.set_inheritable(gate_w, False)
        process.ledger_run_id = run_id
        return cls(python, Path(cwd), run_id, process, gate_w, reply_r)

    def can_run(self, argv: Sequence[str], cwd: Path, env_overrides: Mapping[str, str]) -> bool:
        """Whether this child runs exactly what a cold start of `argv` would."""
        return (
            not self.used
            and self.process.poll() is None
            and list(argv[:3]) == [self.python, "-m", "pytest"]
            and Path(cwd) == self.cwd
            and all(name in LAZY_ENV for name in env_overrides)
        )

    def go(self, argv: Sequence[str], env_overrides: Mapping[str, str]):
        """Open the gate: the child runs `argv` (checked with `can_run`) under the overrides.
        Returns the running process (a runner._TestProcess), or None when the child could not
        take the message (it died at the gate): it is abandoned, and the caller starts cold."""
        message = json.dumps({"argv": list(argv), "env": dict(env_overrides)}).encode()
        try:
            view = memoryview(message)
            while view:
                view = view[os.write(self._gate, view) :]
        except OSError:
            self.abandon()
            return None
        self.used = True
        os.close(self._gate)
        self._gate = -1
        return self.process

    def snapshot(self) -> dict | None:
        """What the child wrote before its gate: {"python": {...}, "distributions": [[name,
        version], ...]} in discovery order; None when it wrote nothing usable in time."""
        if self._reply_data is None and self._reply >= 0:
            chunks: list[bytes] = []
            try:
                while True:
                    ready, _, _ = select.select([self._reply], [], [], REPLY_TIMEOUT_S)
                    if not ready:
                        break
                    chunk = os.read(self._reply, 1 << 16)
                    if not chunk:
                        break
                    chunks.append(chunk)
                data = json.loads(b"".join(chunks)) if chunks else None
            except (OSError, ValueError):
                data = None
            finally:
                os.close(self._reply)
                self._reply = -1
            self._reply_data = data if isinstance(data, dict) else None
        return self._reply_data

    def abandon(self) -> None:
        """Close the gate without a message and reap the child, if it was never sent one: it
        ran nothing, and is gone when this returns. A child that was sent one is the runner's."""
        if self.used:
            return
        self.used = True
        # The reply pipe is left to `snapshot` (the record's snapshot thread may be reading it
        # now; once the child is gone it reads what was written, or EOF): closed there only.
        if self._gate >= 0:
            os.close(self._gate)
            self._gate = -1
        # It has run nothing of the plan's: stopping it outright is as safe as letting it read
        # EOF, and it is gone before ledger exits (no child outlives a refusal).
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    @classmethod
    def adopt(cls, child: EarlyChild, cwd: Path) -> WarmStart:
        """The interpreter ledger.entry forked at its gate before loading ledger
        (ledger.running.early_start), in `cwd`: ledger's own, which ledger reads in-process."""
        process = _ForkedTestProcess(child.pid, child.output_fd)
        process.ledger_run_id = child.run_id
        return cls(sys.executable, Path(cwd), child.run_id, process, child.gate_fd, -1)


class _ForkedTestProcess:
    """The early-forked child as the runner handles a runner._TestProcess (a Popen): its pid,
    its output pipe as `stdout`, `returncode`, `poll` and `wait`."""

    ledger_run_id: str | None = None
    ledger_max_rss: int | None = None
    ledger_ended: float | None = None
    ledger_sole_run = True  # runner._stop_leftovers: every orphan in another session is its run's

    def __init__(self, pid: int, output_fd: int):
        self.pid = pid
        self.stdout = open(output_fd, "rb")  # noqa: SIM115 - closed by the runner, as Popen's
        self.returncode: int | None = None

    def _wait(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:  # reaped elsewhere (runner._reap uses wait4)
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self._wait(os.WNOHANG)

    def wait(self) -> int | None:
        return self._wait(0)


def prestart(ws) -> WarmStart | None:
    """The workspace's test interpreter (`interpreter.workspace_interpreter`, needing only the
    configuration) at its gate in the workspace root: the one ledger.entry forked, when it is
    that interpreter in that folder, else one started now; None when it cannot be (a
    configured Python that does not exist is reported by `prepare`, as today)."""
    from ledger.errors import BadInput
    from ledger.running.interpreter import workspace_interpreter

    early = take()
    try:
        python = workspace_interpreter(ws).path
    except BadInput:
        python = None
    if early is not None:
        if python == sys.executable and early.root == os.path.realpath(ws.root):
            return WarmStart.adopt(early, ws.root)
        early.discard()
    return None if python is None else WarmStart.start(python, ws.root)


def versions_from(snapshot: Mapping, packages: Sequence[str]) -> dict[str, str | None]:
    """`importlib.metadata.version(name)` for each name, from the distributions the child
    listed: the first one on its path whose normalized name matches, as `version` finds it."""
    found: dict[str, str | None] = {}
    for name, version in snapshot.get("distributions") or []:
        if isinstance(name, str):
            found.setdefault(_normalize(name), version)
    return {name: found.get(_normalize(name)) for name in packages}


def _normalize(name: str) -> str:
    # importlib.metadata's Prepared.normalize (PEP 503, with "-" as "_").
    import re

    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")
