"""Cross-checks of a recorded run against itself, its row and the repository.

A manifest whose files match their hashes proves only that nobody edited them since the
manifest was written. These checks ask whether the record is also *consistent*: the
outcome agrees with the JUnit XML, which agrees with the log's summary line; the run is of
this row and of its current selector; its times agree with its folder, with the clock and
with its commit; its commit exists. Each failed check is named (`check counts failed: …`).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.errors import BadInput
from ledger.reading.audit.integrity import FolderCheck
from ledger.running.evidence import read_small_file
from ledger.running.outcome import Outcome

# How far the recorded start may lie after the folder's own timestamp (the folder is made
# first; a busy second pushes the name on by a second or two) and before it (clock steps).
START_AFTER_FOLDER_S = 600
START_BEFORE_FOLDER_S = 5
FUTURE_SLACK_S = 300  # clocks of two machines disagree a little
COMMIT_AFTER_START_S = 3600  # a commit "made after the run that recorded it" beyond skew

_HEX = re.compile(r"^[0-9a-f]{7,64}$")


@dataclass(frozen=True)
class CheckFailure:
    check: str  # counts, outcome, log_summary, times, commit, row, selector
    message: str

    def __str__(self) -> str:
        return f"check {self.check} failed: {self.message}"


_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):?(\d{2}):?(\d{2})Z$")
_TIMES: dict[str, datetime | None] = {}


def parse_time(text) -> datetime | None:
    """`2026-11-24T09:54:41Z` (a manifest's times) or `2026-11-24T095441Z` (a folder name).

    A regex and the datetime constructor, remembered: strptime was a fifth of the cross-checks' time.
    """
    if not isinstance(text, str):
        return None
    if text not in _TIMES:
        match = _TIME.match(text)
        try:
            if match:
                year, month, day, hour, minute, second = map(int, match.groups())
                _TIMES[text] = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            else:
                _TIMES[text] = None
        except ValueError:
            _TIMES[text] = None
        if match and ":" in text and text.count(":") != 2:
            _TIMES[text] = None  # `09:5441Z`: half of each form
    return _TIMES[text]


class CrossChecker:
    """Runs the checks, once per folder; the repository's commits are read in one git call."""

    def __init__(self, root: Path, now: datetime | None = None):
        self.root = root
        self.now = now or datetime.now(UTC)
        self._runs: dict[Path, list[CheckFailure]] = {}
        self._future: dict[Path, bool] = {}
        self._commits: dict[
            str, int | None
        ] = {}  # sha -> committer time, None: not in the repository
        self._pending: set[str] = set()
        self._git_usable: bool | None = None

    # -- the repository's commits, batched -------------------------------------------------
    def want_commits(self, checks) -> None:
        """Note the commits of these runs, so the first lookup fetches them all in one call."""
        for check in checks:
            sha = (check.manifest or {}).get("git_commit")
            if isinstance(sha, str) and _HEX.match(sha) and sha not in self._commits:
                self._pending.add(sha)

    def commit_time(self, sha: str) -> tuple[bool, int | None]:
        """(whether the repository could be asked, the commit's time or None if it is not there)."""
        if sha not in self._commits:
            self._pending.add(sha)
            self._fetch()
        return bool(self._git_usable), self._commits.get(sha)

    def _fetch(self) -> None:
        pending, self._pending = sorted(self._pending), set()
        if not pending:
            return
        if self._git_usable is False:
            self._commits.update(dict.fromkeys(pending))
            return
        try:
            # One process for every commit of the audit: `--batch` answers each line with
            # `<sha> commit <size>` and the object, or `<sha> missing`.
            done = subprocess.run(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                input="\n".join(pending).encode() + b"\n",
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is None or done.returncode != 0:
            self._git_usable = False
            self._commits.update(dict.fromkeys(pending))
            return
        self._git_usable = True
        self._commits.update(dict.fromkeys(pending))
        data, position = done.stdout, 0
        for sha in pending:
            end = data.find(b"\n", position)
            if end < 0:
                break
            header = data[position:end].split()
            position = end + 1
            if len(header) == 3:
                size = int(header[2])
                body = data[position : position + size]
                position += size + 1
                if header[1] == b"commit":
                    self._commits[sha] = _committer_time(body)

    # -- the checks -----------------------------------------------------------------------
    def run_failures(self, check: FolderCheck) -> list[CheckFailure]:
        """Checks that depend on the run alone (cached): counts, outcome, log, times, commit."""
        if check.folder not in self._runs:
            self._runs[check.folder] = self._run_failures(check)
        return self._runs[check.folder]

    def _run_failures(self, check: FolderCheck) -> list[CheckFailure]:
        manifest = check.manifest or {}
        failures = self._time_failures(check)
        if manifest.get("outcome") == Outcome.PASSED:
            failures += self._count_failures(check)
        sha = manifest.get("git_commit")
        if isinstance(sha, str):
            if not _HEX.match(sha):
                failures.append(
                    CheckFailure("commit", f"recorded commit {sha!r} is not a commit hash")
                )
            else:
                usable, when = self.commit_time(sha)
                if usable and when is None:
                    failures.append(
                        CheckFailure(
                            "commit",
                            f"recorded commit {sha[:12]} is not in this repository (forged, or a shallow clone)",
                        )
                    )
                started = parse_time(manifest.get("started_at"))
                if (
                    when is not None
                    and started is not None
                    and when - started.timestamp() > COMMIT_AFTER_START_S
                ):
                    made = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    failures.append(
                        CheckFailure(
                            "times",
                            f"the recorded commit {sha[:12]} was made at {made}, after the run started ({manifest.get('started_at')})",
                        )
                    )
        return failures

    def is_future(self, check: FolderCheck) -> bool:
        if check.folder not in self._future:
            started = parse_time((check.manifest or {}).get("started_at"))
            folder = parse_time(check.folder_timestamp)
            limit = self.now.timestamp() + FUTURE_SLACK_S
            self._future[check.folder] = any(
                t is not None and t.timestamp() > limit for t in (started, folder)
            )
        return self._future[check.folder]

    def _time_failures(self, check: FolderCheck) -> list[CheckFailure]:
        manifest = check.manifest or {}
        started_text = manifest.get("started_at")
        started = parse_time(started_text)
        folder = parse_time(check.folder_timestamp)
        failures = []
        if started is None:
            return [CheckFailure("times", f"started_at {started_text!r} is not a UTC time")]
        if self.is_future(check):
            failures.append(
                CheckFailure(
                    "times",
                    f"recorded in the future (folder {check.folder_timestamp}, started_at {started_text}); it is not counted as the newest run",
                )
            )
        if folder is not None:
            delta = (started - folder).total_seconds()
            # A folder chosen before the run (`do --at`/`--report-dir`/`--from-input`: the
            # supervisor's Artifacts:) may be any time older than the run, never newer.
            chosen = isinstance(manifest.get("report_dir_chosen"), dict)
            if (delta > START_AFTER_FOLDER_S and not chosen) or delta < -START_BEFORE_FOLDER_S:
                failures.append(
                    CheckFailure(
                        "times",
                        f"folder {check.folder_timestamp} does not match started_at {started_text} (a copied or renamed folder)",
                    )
                )
        finished = parse_time(manifest.get("finished_at"))
        if finished is not None and finished < started:
            failures.append(
                CheckFailure(
                    "times",
                    f"finished_at {manifest.get('finished_at')} is before started_at {started_text}",
                )
            )
        return failures

    def _count_failures(self, check: FolderCheck) -> list[CheckFailure]:
        """Re-apply `ledger do`'s outcome rule (ledger/running/outcome.py) to the stored evidence."""
        from ledger.running.junit import JUnitError, parse_junit
        from ledger.running.outcome import classify

        manifest = check.manifest or {}
        files = manifest.get("files") or {}
        if "junit.xml" not in files:
            return [
                CheckFailure(
                    "outcome",
                    "recorded as passed with no JUnit report (a pass needs a test that ran)",
                )
            ]
        try:
            parsed = parse_junit(os.path.join(check.folder, "junit.xml"))
        except JUnitError as exc:
            return [CheckFailure("outcome", f"recorded as passed but {exc}")]
        junit = {
            "tests": parsed.tests,
            "passed": parsed.passed,
            "failed": parsed.failed,
            "errors": parsed.errors,
            "skipped": parsed.skipped,
        }
        failures = []
        recorded = manifest.get("counts")
        if not isinstance(recorded, dict) or any(recorded.get(k) != v for k, v in junit.items()):
            failures.append(
                CheckFailure("counts", f"manifest counts {recorded} differ from junit.xml {junit}")
            )
        if parsed.collection_errors:
            junit["collection_errors"] = parsed.collection_errors
        if "pytest.log" not in files:
            return failures + [CheckFailure("log_summary", "recorded as passed with no pytest.log")]
        log_text = _tail(os.path.join(check.folder, "pytest.log"))
        args = _selector_args(manifest.get("selector"))
        exit_code = manifest.get("exit_code", 0)
        verdict = classify(
            exit_code=exit_code if isinstance(exit_code, int) else None,
            junit=junit,
            log_text=log_text,
            args=args,
        )
        summary = (
            verdict.summary
        )  # the log's summary line, as classify parsed it (parsed once, not twice)
        disagreement = summary is not None and _log_disagrees(summary, junit)
        if summary is not None and disagreement:
            shown = ", ".join(f"{v} {k}" for k, v in summary.items() if v) or "no tests ran"
            failures.append(
                CheckFailure(
                    "log_summary",
                    f"pytest.log says {shown}; junit.xml holds {junit['passed']} passed, {junit['failed']} failed, {junit['errors']} errors",
                )
            )
        if verdict.outcome is not Outcome.PASSED and not disagreement:
            failures.append(
                CheckFailure(
                    "outcome",
                    f"recorded as passed but its evidence says {verdict.outcome}: {verdict.reason}",
                )
            )
        return failures

    def row_failures(self, check: FolderCheck, row, plan_file: str) -> list[CheckFailure]:
        """Is this run of this row, and of the selector the row names now?"""
        manifest = check.manifest or {}
        failures = []
        recorded_row = manifest.get("row")
        if not isinstance(recorded_row, str):
            failures.append(
                CheckFailure(
                    "row", "the manifest names no row (a run must say which row it proves)"
                )
            )
        elif recorded_row != row.id:
            failures.append(CheckFailure("row", f"the run is of row {recorded_row}, not {row.id}"))
        recorded_plan = manifest.get("plan")
        if isinstance(recorded_plan, str) and recorded_plan != plan_file:
            failures.append(
                CheckFailure("row", f"the run is of a row in {recorded_plan}, not {plan_file}")
            )
        failure = selector_failure(manifest.get("selector"), row)
        if failure:
            failures.append(failure)
        return failures


_PARSED: dict[str, object] = {}


def _parsed(text: str):
    """parse_selector, remembered: an audit compares the same few selector texts many times."""
    if text not in _PARSED:
        from ledger.running.selector import parse_selector

        try:
            _PARSED[text] = parse_selector(text)
        except BadInput as exc:
            _PARSED[text] = exc
    found = _PARSED[text]
    if isinstance(found, BadInput):
        raise found
    return found


def selector_failure(recorded, row) -> CheckFailure | None:
    from ledger.running.selector import find_selectors

    if not isinstance(recorded, str):
        return CheckFailure("selector", "the manifest records no selector")
    if _first_selector_is(row.guidance, recorded):
        return None
    found = find_selectors(row.guidance) or find_selectors(row.description)
    if not found:
        return CheckFailure(
            "selector",
            f"the row names no selector to compare the run's `{recorded}` with (write it in the row's guidance)",
        )
    if found[0] == recorded:
        return None
    try:
        current = _parsed(found[0])
        ran = _parsed(recorded)
    except BadInput as exc:
        return CheckFailure("selector", exc.message)
    if (current.env, current.args) != (ran.env, ran.args):
        return CheckFailure(
            "selector",
            f"ran another selector: `{recorded}`, but the row's selector is `{found[0]}` (that run proves its own selector, not this row)",
        )
    return None


def _log_disagrees(summary: dict[str, int], junit: dict) -> bool:
    """The summary line and the JUnit XML count different tests (a test failing in teardown is
    "1 passed, 1 error" in the log and one errored case in JUnit, so passes are compared only without errors)."""
    if summary.get("failed", 0) != junit["failed"]:
        return True
    if summary.get("errors", 0) == 0 and junit["errors"] == 0:
        return summary.get("passed", 0) + summary.get("xpassed", 0) != junit["passed"]
    return False


_SELECTOR_LIKE: dict[str, bool] = {}


def _first_selector_is(text: str, recorded: str) -> bool:
    """Whether `recorded` is the first selector of `text`, without tokenising every code span:
    a selector names pytest or a node id, so when nothing before the first `` `recorded` `` span
    does, no earlier span can be one (the slow path, find_selectors, decides every other case)."""
    at = text.find(f"`{recorded}`")
    if at < 0:
        return False
    before = text[:at]
    # Multi-backtick spans and escapes change where spans start: left to the slow path.
    if (
        "pytest" in before
        or "::" in before
        or before.count("`") % 2
        or "``" in text
        or "\\`" in text
    ):
        return False
    if recorded not in _SELECTOR_LIKE:
        from ledger.running.selector import looks_like_selector

        _SELECTOR_LIKE[recorded] = looks_like_selector(recorded)
    return _SELECTOR_LIKE[recorded]


def _selector_args(text) -> tuple[str, ...]:
    try:
        return _parsed(text).args if isinstance(text, str) else ()
    except BadInput:
        return ()


def _tail(path: Path | str, size: int = 16384) -> str:
    """The last `size` bytes of a log, as text ("" when unreadable)."""
    try:
        return read_small_file(path, last=size).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _committer_time(body: bytes) -> int | None:
    for line in body.split(b"\n"):
        if not line:
            break  # end of the headers
        if line.startswith(b"committer "):
            parts = line.rsplit(b" ", 2)
            try:
                return int(parts[1])
            except (IndexError, ValueError):
                return None
    return None
