"""`ledger verify`: re-run the run that proves each done row, in a clean git worktree.

An audit can only check that a record is consistent with itself; a re-run checks the
claim. For every verified row, the run audit counts as its proof is re-run — its
selector and env, at the commit it recorded (or at HEAD) in a fresh detached
`git worktree` outside the workspace — and the outcome and counts are compared. Each
re-run is recorded as its own report folder (`tool: "ledger verify"`, citing the run it
checked in `verifies`), which `ledger audit` reads back as "reproduced" / "not reproduced".

`--shard i/n` takes every n-th target (sorted, so every machine agrees) for a CI matrix
or a job array; `--out DIR` copies what a shard recorded there, and
`--collect-shards DIR` brings the shards' folders into the workspace and merges them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ledger.documents.states import RowState
from ledger.editing.repair import RunClaim
from ledger.errors import BadInput
from ledger.running.evidence import (
    MANIFEST,
    MANIFEST_VERSION,
    VERIFY_TOOL,
    create_report_dir,
    hash_files,
    read_manifest,
    utc_now,
    write_manifest,
)
from ledger.workspace import Workspace

Echo = Callable[[str], None]
RECORDED, HEAD = "recorded", "head"
COUNT_KEYS = ("tests", "passed", "failed", "errors", "skipped")
_SLUG_CHARS = re.compile(r"[^a-z0-9_.-]+")


@dataclass(frozen=True)
class Target:
    initiative: str
    row: str  # qualified id, as the audit shows it
    row_id: str
    plan: str
    run_folder: str  # workspace-relative, trailing /
    manifest: dict

    @property
    def key(self) -> tuple[str, str, str]:
        return self.initiative, self.plan, self.row


@dataclass
class VerifyResult:
    initiative: str
    row: str
    at: str
    verifies: str
    commit: str | None
    reproduced: bool
    why: str
    outcome: str | None = None
    counts: dict | None = None
    folder: str | None = None  # the verification's own report folder

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class VerifySummary:
    results: list[VerifyResult] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # done rows with nothing to re-run
    shard: str | None = None

    @property
    def exit_code(self) -> int:
        return 0 if all(r.reproduced for r in self.results) else 1

    def to_json(self) -> dict:
        return {
            "shard": self.shard,
            "exit_code": self.exit_code,
            "reproduced": sum(r.reproduced for r in self.results),
            "not_reproduced": sum(not r.reproduced for r in self.results),
            "results": [r.to_json() for r in self.results],
            "skipped": self.skipped,
        }


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not (1 <= int(match.group(1)) <= int(match.group(2))):
        raise BadInput(f"--shard {text!r}: write it as i/n with 1 <= i <= n (e.g. 2/4)")
    return int(match.group(1)), int(match.group(2))


def shard_of(targets: list[Target], shard: tuple[int, int] | None) -> list[Target]:
    """Every n-th target of the sorted list: the same split on every machine, whatever the listing order."""
    ordered = sorted(targets, key=lambda t: t.key)
    if shard is None:
        return ordered
    index, count = shard
    return [t for k, t in enumerate(ordered) if k % count == index - 1]


def find_targets(
    ws: Workspace, initiative: str | None, row: str | None
) -> tuple[list[Target], list[dict]]:
    """The proof run of every verified row (and the done rows that have none, with why)."""
    from ledger.reading.audit import audit_workspace
    from ledger.reading.audit.model import AuditClass

    report = audit_workspace(ws, initiative)
    targets, skipped = [], []
    for audit in report.rows:
        if row is not None and row not in (audit.row, audit.qualified_id):
            continue
        if audit.state != RowState.DONE:
            continue
        if audit.audit is not AuditClass.VERIFIED or audit.proof is None:
            skipped.append(
                {
                    "initiative": audit.initiative,
                    "row": audit.qualified_id,
                    "why": f"{audit.audit}: no verified run to re-run",
                }
            )
            continue
        manifest = read_manifest(ws.root / audit.proof) or {}
        targets.append(
            Target(
                audit.initiative, audit.qualified_id, audit.row, audit.file, audit.proof, manifest
            )
        )
    if row is not None and not targets and not skipped:
        raise BadInput(f"no done row {row} in {initiative}")
    return targets, skipped


class Worktrees:
    """Detached worktrees of the workspace's repository, one per re-run, outside the workspace."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self._lock = threading.Lock()  # git serialises worktree bookkeeping badly under concurrency
        toplevel = _git(ws.root, "rev-parse", "--show-toplevel")
        if toplevel is None:
            raise BadInput(
                f"{ws.root} is not in a git repository: ledger verify re-runs at commits"
            )
        self.toplevel = Path(toplevel).resolve()
        self.inside = ws.root.resolve().relative_to(self.toplevel)
        self.scratch = Path(tempfile.mkdtemp(prefix="ledger-verify-"))
        self._count = 0

    def head(self) -> str | None:
        return _git(self.toplevel, "rev-parse", "--verify", "-q", "HEAD^{commit}")

    def add(self, commit: str) -> Path:
        with self._lock:
            self._count += 1
            path = self.scratch / f"wt{self._count}"
            done = subprocess.run(
                ["git", "worktree", "add", "--detach", "--quiet", str(path), commit],
                cwd=self.toplevel,
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            raise BadInput(
                f"cannot check out {commit[:12]}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'git worktree add failed'}"
            )
        return path / self.inside

    def remove(self, workspace_in_tree: Path) -> None:
        tree = workspace_in_tree
        for _ in self.inside.parts:
            tree = tree.parent
        with self._lock:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)],
                cwd=self.toplevel,
                capture_output=True,
                check=False,
            )
        shutil.rmtree(tree, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            subprocess.run(
                ["git", "worktree", "prune"], cwd=self.toplevel, capture_output=True, check=False
            )
        shutil.rmtree(self.scratch, ignore_errors=True)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def run_verify(
    ws: Workspace,
    initiative: str | None,
    row: str | None,
    places: tuple[str, ...] = (RECORDED,),
    jobs: int = 1,
    shard: tuple[int, int] | None = None,
    out: Path | None = None,
    timeout_s: float | None = None,
    echo: Echo = lambda line: None,
) -> VerifySummary:
    targets, skipped = find_targets(ws, initiative, row)
    mine = shard_of(targets, shard)
    summary = VerifySummary(skipped=skipped, shard=f"{shard[0]}/{shard[1]}" if shard else None)
    trees = Worktrees(ws)
    head = trees.head() if HEAD in places else None
    tasks = [(t, place) for t in mine for place in places]
    try:
        if jobs <= 1:
            summary.results = [
                _verify_one(ws, trees, t, place, head, timeout_s, echo) for t, place in tasks
            ]
        else:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ledger-verify") as pool:
                summary.results = list(
                    pool.map(
                        lambda task: _verify_one(
                            ws, trees, task[0], task[1], head, timeout_s, echo
                        ),
                        tasks,
                    )
                )
    finally:
        trees.close()
    if out is not None:
        _export(ws, summary, out, shard, [t.key for t in mine])
    return summary


def _verify_one(
    ws: Workspace,
    trees: Worktrees,
    target: Target,
    place: str,
    head: str | None,
    timeout_s,
    echo: Echo,
) -> VerifyResult:
    from ledger.errors import UnsafeSelector
    from ledger.running.record import classify_outcome, read_counts, read_log
    from ledger.running.runner import RunRequest, pytest_argv, run_streaming
    from ledger.running.selector_policy import (
        SelectorPolicy,
        check_recorded_env,
        ledger_run_options,
        remove_basetemp,
    )

    recorded = target.manifest
    commit = recorded.get("git_commit") if place == RECORDED else head
    result = VerifyResult(
        target.initiative, target.row, place, target.run_folder, commit, False, ""
    )
    selector_text = recorded.get("selector")
    if not isinstance(commit, str) or not commit:
        result.why = (
            "the run recorded no commit to check out"
            if place == RECORDED
            else "the repository has no HEAD commit"
        )
        echo(f"[ledger] {target.initiative} {target.row}: cannot reproduce: {result.why}")
        return result
    # A manifest is a file in the workspace, as writable as plan text: the selector and the
    # environment it recorded pass the same selector policy as `ledger do`'s before they run.
    policy = SelectorPolicy.for_workspace(ws)
    recorded_env = recorded.get("env_overrides")
    try:
        selector = policy.parse(selector_text if isinstance(selector_text, str) else "")
        if isinstance(recorded_env, dict):
            check_recorded_env(policy, recorded_env, ws.config.env)
    except UnsafeSelector as exc:
        result.why = f"the recorded selector cannot run: {exc.detail}"
        return result
    except BadInput as exc:
        result.why = f"the recorded selector cannot run: {exc.message}"
        return result
    slug = "verify_" + _SLUG_CHARS.sub("_", target.row.lower()).strip("_.-")[:60]
    # Registered like a `do` (editing.repair.RunClaim): a verify killed mid-run leaves a folder
    # the next repair marks abandoned, never one that looks like a run still going.
    claim = RunClaim.start(ws.root)
    finished = False
    try:
        report = create_report_dir(
            ws.root,
            ws.report_root(target.initiative),
            slug,
            utc_now(),
            run_id=claim.token,
            claim=claim.claim,
        )
        folder = report.path
        overrides = recorded_env if isinstance(recorded_env, dict) else selector.env
        base = {
            "version": MANIFEST_VERSION,
            "complete": False,
            "tool": VERIFY_TOOL,
            "initiative": target.initiative,
            "row": target.row_id,
            "plan": target.plan,
            "verifies": target.run_folder,
            "folder": ws.relative(folder) + "/",
            "at": place,
            "git_commit": commit,
            "selector": selector.text,
            "started_at": report.timestamp,
            "run_id": claim.token,  # its registration's: repair tells its folder from another's
        }
        write_manifest(folder, base)
        expected = {
            "outcome": recorded.get("outcome"),
            "counts": {k: (recorded.get("counts") or {}).get(k) for k in COUNT_KEYS},
        }
        echo(
            f"[ledger] {target.initiative} {target.row}: re-running {selector.display} at {place} {commit[:12]} -> {ws.relative(folder)}/"
        )
        try:
            tree = trees.add(commit)
        except BadInput as exc:
            result.why = exc.message
            write_manifest(
                folder,
                {
                    **base,
                    "complete": True,
                    "outcome": None,
                    "reproduced": False,
                    "why": result.why,
                    "expected": expected,
                    "files": hash_files(folder),
                },
            )
            result.folder = ws.relative(folder) + "/"
            finished = True
            return result
        try:
            from ledger.running.interpreter import workspace_interpreter

            # The workspace's Python (its venv has the project's dependencies), as `ledger do` uses,
            # with ledger's own run options (cache in the checkout, --basetemp in the verify folder).
            argv = pytest_argv(
                ["pytest", *selector.args],
                folder / "junit.xml",
                ledger_run_options(tree, folder, selector.args),
                python=workspace_interpreter(ws).path,
            )
            # The checkout's own code first: an editable install of the workspace would otherwise
            # import the working copy's modules instead of the commit's.
            env = {str(k): str(v) for k, v in overrides.items()}
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(tree), os.environ.get("PYTHONPATH", "")])
            )
            run = run_streaming(
                RunRequest(
                    argv=argv,
                    env_overrides=env,
                    cwd=tree,
                    log_path=folder / "pytest.log",
                    timeout_s=timeout_s,
                ),
                echo
                if threading.current_thread() is threading.main_thread()
                else (lambda line: None),
            )
        finally:
            trees.remove(tree)
            remove_basetemp(folder)  # tests' tmp_path files are not evidence
        counts = read_counts(folder / "junit.xml")
        verdict = classify_outcome(
            run,
            counts,
            timeout_s,
            read_log(folder / "pytest.log"),
            args=selector.args,
            roots=[tree, ws.root],
        )
        outcome, reason = verdict.outcome, verdict.reason
        got = {k: (counts or {}).get(k) for k in COUNT_KEYS}
        if outcome != expected["outcome"]:
            why = f"{outcome} ({reason or _counts_text(got)}), the run it checks {expected['outcome']}"
        elif got != expected["counts"]:
            why = f"same outcome, other counts: {_counts_text(got)} vs {_counts_text(expected['counts'])}"
        else:
            why = f"same outcome and counts ({_counts_text(got)})"
        if place == RECORDED and recorded.get("git_dirty"):
            # The checkout is the commit; the run had edits on top of it, which nothing re-runs.
            why += "; the run it checks had uncommitted changes, so its commit is not exactly the code it ran"
        result.reproduced = outcome == expected["outcome"] and got == expected["counts"]
        result.why, result.outcome, result.counts = why, outcome, counts
        result.folder = ws.relative(folder) + "/"
        write_manifest(
            folder,
            {
                **base,
                "complete": True,
                "argv": argv,
                "env_overrides": {k: v for k, v in env.items() if k != "PYTHONPATH"},
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "duration_s": round(run.duration_s, 3),
                "exit_code": run.exit_code,
                "outcome": outcome,
                "reason": reason,
                "counts": counts,
                "expected": expected,
                "reproduced": result.reproduced,
                "why": why,
                "files": hash_files(folder),
            },
        )
        echo(
            f"[ledger] {target.initiative} {target.row} at {place}: {'reproduced' if result.reproduced else 'NOT reproduced'}: {why}"
        )
        finished = True
        return result
    finally:
        if finished:
            claim.finish()
        else:
            claim.release()


def _counts_text(counts: dict | None) -> str:
    if not counts:
        return "no counts"
    return ", ".join(
        f"{counts.get(k) or 0} {k}"
        for k in ("passed", "failed", "errors", "skipped")
        if counts.get(k) or k == "passed"
    )


# -- shards ----------------------------------------------------------------------------------


def _export(
    ws: Workspace, summary: VerifySummary, out: Path, shard: tuple[int, int] | None, keys: list
) -> None:
    """Copy the folders this shard recorded to `out` (same relative paths) and a shard record beside them."""
    out.mkdir(parents=True, exist_ok=True)
    for result in summary.results:
        if result.folder:
            shutil.copytree(ws.root / result.folder, out / result.folder, dirs_exist_ok=True)
    index, count = shard or (1, 1)
    record = {**summary.to_json(), "shard": [index, count], "targets": [list(k) for k in keys]}
    (out / f"verify-shard-{index}-of-{count}.json").write_text(
        json.dumps(record, indent=2) + "\n", encoding="utf-8"
    )


@dataclass
class Collected:
    shards_seen: list[int]
    shard_count: int | None
    missing_shards: list[int]
    copied: list[str]
    rejected: list[str]
    summary: VerifySummary

    @property
    def exit_code(self) -> int:
        return 1 if self.missing_shards or self.rejected or self.summary.exit_code else 0

    def to_json(self) -> dict:
        return {
            "shards_seen": self.shards_seen,
            "shard_count": self.shard_count,
            "missing_shards": self.missing_shards,
            "copied": self.copied,
            "rejected": self.rejected,
            "exit_code": self.exit_code,
            **{k: v for k, v in self.summary.to_json().items() if k != "exit_code"},
        }


def collect_shards(ws: Workspace, source: Path) -> Collected:
    """Bring every shard's verification folders under `source` into the workspace, and merge their results.

    A folder is taken only if its manifest is an intact, sealed `ledger verify` record whose
    recorded place is under its initiative's report root; anything else is rejected, not copied.
    """
    from ledger.reading.audit.integrity import FolderStatus, check_folder
    from ledger.running.evidence import check_slug  # noqa: F401  (slug rules are the report folder's)

    if not source.is_dir():
        raise BadInput(f"{source}: no such folder of shard results")
    records = sorted(source.rglob("verify-shard-*-of-*.json"))
    seen, count = set(), None
    for path in records:
        try:
            index, total = json.loads(path.read_text(encoding="utf-8"))["shard"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        seen.add(int(index))
        count = int(total) if count is None else max(count, int(total))
    copied, rejected, results = [], [], []
    for manifest_path in sorted(source.rglob(MANIFEST)):
        folder = manifest_path.parent
        check = check_folder(folder)
        manifest = check.manifest or {}
        if manifest.get("tool") != VERIFY_TOOL:
            continue
        where = manifest.get("folder")
        initiative = manifest.get("initiative")
        rel = folder.relative_to(source).as_posix()
        if (
            check.status != FolderStatus.INTACT
            or not isinstance(where, str)
            or not isinstance(initiative, str)
        ):
            rejected.append(
                f"{rel}: {'; '.join(check.problems) or 'not an intact ledger verify record'}"
            )
            continue
        target = (ws.root / where).resolve()
        try:
            report_root = ws.report_root(initiative).resolve()
        except BadInput as exc:
            rejected.append(f"{rel}: {exc.message}")
            continue
        if report_root not in target.parents:
            rejected.append(
                f"{rel}: records a place outside {initiative}'s report folders ({where})"
            )
            continue
        if not target.exists():
            shutil.copytree(folder, target)
            copied.append(where)
        results.append(
            VerifyResult(
                initiative,
                str(manifest.get("row")),
                str(manifest.get("at")),
                str(manifest.get("verifies")),
                manifest.get("git_commit"),
                bool(manifest.get("reproduced")),
                str(manifest.get("why") or ""),
                manifest.get("outcome"),
                manifest.get("counts"),
                where,
            )
        )
    missing = sorted(set(range(1, count + 1)) - seen) if count else []
    if not records:
        raise BadInput(
            f"{source}: no verify-shard-*-of-*.json shard records (run ledger verify --shard i/n --out DIR)"
        )
    return Collected(sorted(seen), count, missing, copied, rejected, VerifySummary(results=results))
