"""A parallel audit: worker processes (fork) each audit a share of the initiatives.

An audit's work is nearly all per initiative (its plans, its runs' manifests and files, its
rows), and one process uses one core. When it pays, the audit forks workers that each
compute the `initiative_parts` of every k-th initiative and send them back pickled through
a pipe, while the audit's own process does the first share; the audit then merges the
parts in the initiatives' order, exactly as the same parts computed in one process.

The sequential path (one process) is taken when fork is not available, when other threads
run in this process (a fork copies only the calling thread, and locks other threads hold),
when there are too few initiatives for forking to pay, or when LEDGER_AUDIT_JOBS=1. Any
failure of any share (an error in a worker or in the audit's own share, a worker killed, a
result that does not unpickle) discards the parallel attempt and audits sequentially, so an
error surfaces exactly as it does sequentially.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys

from ledger.documents.fix_plan import LedgerDoc
from ledger.reading.audit.integrity import IntegrityChecker
from ledger.reading.audit.parts import InitiativePart, initiative_parts, proof_checks
from ledger.workspace import Workspace

JOBS_ENV = "LEDGER_AUDIT_JOBS"
# Fewer initiatives than this per process and forking does not pay: a worker costs a
# fork, its own `git cat-file` and findings file, and pickling its share back.
MIN_INITIATIVES_PER_JOB = 4
MAX_JOBS = 8  # past this, the merge and the per-worker fixed costs outweigh another share


def audit_jobs(initiatives: int) -> int:
    """How many processes should audit `initiatives` initiatives (1: sequentially)."""
    if not hasattr(os, "fork"):
        return 1
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return 1
    setting = os.environ.get(JOBS_ENV, "").strip()
    if setting:
        try:
            wanted = int(setting)
        except ValueError:
            wanted = 0
        if wanted >= 1:
            return max(1, min(wanted, initiatives // MIN_INITIATIVES_PER_JOB))
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_JOBS, initiatives // MIN_INITIATIVES_PER_JOB))


def audit_parts(
    ws: Workspace, names: list[str], ledger: LedgerDoc | None, checker: IntegrityChecker
) -> list[InitiativePart]:
    """`initiative_parts(ws, names, ...)`, from `audit_jobs` processes when more than one."""
    jobs = audit_jobs(len(names))
    if jobs > 1:
        parts = _forked(ws, names, ledger, checker, jobs)
        if parts is not None:
            return parts
    return initiative_parts(ws, names, ledger, checker)


def _forked(
    ws: Workspace,
    names: list[str],
    ledger: LedgerDoc | None,
    checker: IntegrityChecker,
    jobs: int,
) -> list[InitiativePart] | None:
    """The parts of every initiative, share k from worker k, share 0 from this process;
    None when any share failed."""
    # Made before the fork so every share judges "in the future" against the same clock.
    if checker.cross is None:
        from ledger.reading.audit.crosscheck import CrossChecker

        checker.cross = CrossChecker(ws.root)
    shares = interleaved_shares(names, jobs)
    workers: list[tuple[int, int]] = []  # (pid, read end of its pipe), until received
    try:
        try:
            for share in shares[1:]:
                workers.append(_start_worker(ws, share, ledger, checker))
            parts = initiative_parts(ws, shares[0], ledger, checker)
        except Exception:
            return None  # audited again sequentially, which raises it as it always did
        while workers:
            pid, read_end = workers.pop(0)
            received = _receive(pid, read_end)
            if received is None:
                return None
            parts += received
            checker.adopt(check for part in received for check in part.proofs)
    finally:
        for pid, read_end in workers:  # not received: stop and reap them
            _stop(pid, read_end)
    order = {name: index for index, name in enumerate(names)}
    return sorted(parts, key=lambda part: order[part.name])


def interleaved_shares(names: list[str], jobs: int) -> list[list[str]]:
    """`names` dealt out in turn: neighbours, often alike in size, go to different processes.
    Equal shares: measured on the benchmark workspace, a worker and the audit's own process
    spend the same CPU per initiative (9.5-9.9 ms), and the worker's pickling runs in step
    with the audit's unpickling. (A larger own share, 1.12x, left the audit's process
    finishing 0.1-0.3 s after its worker.)"""
    return [names[k::jobs] for k in range(jobs)]


def _start_worker(
    ws: Workspace, share: list[str], ledger: LedgerDoc | None, checker: IntegrityChecker
) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the audit's code
        status = 1
        try:
            os.close(read_end)
            parts = initiative_parts(ws, share, ledger, checker)
            proof_checks(parts, checker, ws)
            # Pickled straight into the pipe: the audit unpickles while this writes.
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(parts, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        except BaseException:  # reported as a failed share; the audit redoes it sequentially
            pass
        finally:
            # No atexit handlers, no flush of stdio buffers copied from the audit's process.
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _receive(pid: int, read_end: int) -> list[InitiativePart] | None:
    """A worker's parts, once it has exited cleanly (it is reaped either way); None when it failed."""
    parts = None
    try:
        with os.fdopen(read_end, "rb") as pipe:
            parts = pickle.load(pipe)
            if pipe.read(1):
                parts = None  # more than one pickle: not what a worker writes
    except Exception:  # a worker that died mid-way leaves a truncated pickle, or nothing
        parts = None
    _, status = os.waitpid(pid, 0)
    return parts if status == 0 and isinstance(parts, list) else None


def _stop(pid: int, read_end: int) -> None:
    try:
        os.close(read_end)
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass
