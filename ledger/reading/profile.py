"""Runtime statistics of a row's recorded runs, and the guardrail verdict on a new run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from ledger.running.evidence import counts_for_baseline, row_manifests
from ledger.running.outcome import Outcome
from ledger.workspace import Workspace


class Guardrail(StrEnum):
    """A run's duration against its row's bands; the guardrail line starts with it (the attempt
    templates show a `warn`/`fail` one)."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Bands:
    baseline: float
    warn: float
    fail: float
    runs: int  # how many passing runs the baseline is the median of

    def verdict(self, duration_s: float) -> Guardrail:
        if duration_s >= self.fail:
            return Guardrail.FAIL
        if duration_s >= self.warn:
            return Guardrail.WARN
        return Guardrail.OK

    def describe(self, duration_s: float) -> str:
        verdict = self.verdict(duration_s)
        return (
            f"{verdict}: {duration_s:.2f}s is {duration_s / self.baseline:.2f}x the baseline {self.baseline:.2f}s "
            f"(median of {self.runs} passing run{'s' if self.runs != 1 else ''}; warn at {self.warn:.2f}s, fail at {self.fail:.2f}s)"
        )


@dataclass
class Run:
    folder: str
    when: str
    duration_s: float | None
    outcome: str | None
    complete: bool
    guardrail: str | None = None
    selector: str | None = None
    # In the statistics and the baseline: a complete passing run of the row's current selector.
    counted: bool = False


@dataclass
class Profile:
    initiative: str
    row: str
    selector: str | None
    runs: list[Run] = field(default_factory=list)
    count: int = 0
    mean_s: float | None = None
    stdev_s: float | None = None
    cv: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    bands: Bands | None = None
    latest_verdict: str | None = None
    excluded: int = 0  # timed runs left out: not passing, or of another selector
    written: str | None = None  # the runtime_profile.md this call wrote

    def to_json(self) -> dict:
        data = asdict(self)
        data["bands"] = asdict(self.bands) if self.bands else None
        return data


def baseline_bands(
    durations_of_passing_runs: list[float], warn: float, fail: float, last_n: int
) -> Bands | None:
    """Median of the last `last_n` passing durations, and the warn/fail thresholds as multiples of it."""
    # statistics.median, not numpy: `ledger do` calls this after every run and numpy's
    # import alone would cost more than the arithmetic on five numbers.
    import statistics

    recent = [d for d in durations_of_passing_runs if d is not None and d > 0][-last_n:]
    if not recent:
        return None
    baseline = float(statistics.median(recent))
    return Bands(baseline=baseline, warn=baseline * warn, fail=baseline * fail, runs=len(recent))


def guardrails(ws: Workspace, runs: list[dict]) -> dict | None:
    """Bands for the dashboard: `runs` are dicts with duration_s and outcome, oldest first."""
    passing = [
        float(r["duration_s"])
        for r in runs
        if r.get("outcome") == Outcome.PASSED and isinstance(r.get("duration_s"), (int, float))
    ]
    bands = baseline_bands(
        passing, ws.config.guardrail_warn, ws.config.guardrail_fail, ws.config.baseline_runs
    )
    return asdict(bands) if bands else None


def verdict_for_new_run(
    ws: Workspace,
    initiative: str,
    row_id: str,
    plan: str,
    duration_s: float,
    outcome: str,
    selector: str | None = None,
    history: list | None = None,
) -> str | None:
    """The guardrail line `ledger do` prints and records, against the passing runs of the same selector before this one.

    `history`: the row's (folder, manifest) pairs when the caller has read them already."""
    if outcome != Outcome.PASSED:
        return None
    if history is None:
        history = row_manifests(ws.report_root(initiative), row_id, plan)
    previous = [float(m["duration_s"]) for _, m in history if counts_for_baseline(m, selector)]
    bands = baseline_bands(
        previous, ws.config.guardrail_warn, ws.config.guardrail_fail, ws.config.baseline_runs
    )
    if bands is None:
        return "no baseline yet (first passing run)"
    return bands.describe(duration_s)


def profile_row(
    ws: Workspace, initiative: str, reference: str
) -> tuple[Profile, list[tuple[Path, dict]]]:
    import numpy

    from ledger.running.selector import find_selectors

    row = ws.find_row(initiative, reference)
    manifests = [
        (f, m) for f, m in row_manifests(ws.report_root(initiative), row.id, ws.relative(row.path))
    ]
    selectors = find_selectors(row.guidance) or find_selectors(row.description)
    current = selectors[0] if selectors else None
    profile = Profile(initiative, row.id, current)
    for folder, manifest in manifests:
        duration = manifest.get("duration_s")
        profile.runs.append(
            Run(
                folder=ws.relative(folder) + "/",
                when=str(
                    manifest.get("finished_at") or manifest.get("started_at") or folder.parent.name
                ),
                duration_s=float(duration) if isinstance(duration, (int, float)) else None,
                outcome=manifest.get("outcome"),
                complete=manifest.get("complete") is True,
                guardrail=manifest.get("guardrail"),
                selector=manifest.get("selector"),
                counted=counts_for_baseline(manifest, current),
            )
        )
    # A counted run always has a duration (counts_for_baseline): the filter only tells mypy.
    timed = [r.duration_s for r in profile.runs if r.counted and r.duration_s is not None]
    profile.count = len(timed)
    profile.excluded = sum(
        1 for r in profile.runs if r.complete and r.duration_s is not None and not r.counted
    )
    if timed:
        values = numpy.asarray(timed, dtype=float)
        profile.mean_s = float(values.mean())
        profile.stdev_s = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        profile.cv = profile.stdev_s / profile.mean_s if profile.mean_s > 0 else None
        profile.min_s, profile.max_s = float(values.min()), float(values.max())
    passing = timed  # the counted runs' durations, oldest first
    # The newest passing run is judged against the ones before it, as `ledger do` judged it.
    if passing:
        before = passing[:-1]
        prior = baseline_bands(
            before, ws.config.guardrail_warn, ws.config.guardrail_fail, ws.config.baseline_runs
        )
        profile.latest_verdict = (
            prior.describe(passing[-1]) if prior else "no baseline yet (first passing run)"
        )
    profile.bands = baseline_bands(
        passing, ws.config.guardrail_warn, ws.config.guardrail_fail, ws.config.baseline_runs
    )
    return profile, manifests


def write_runtime_profile(
    ws: Workspace,
    profile: Profile,
    manifests: list[tuple[Path, dict]],
    now: str,
    lock_timeout_s: float = 10.0,
) -> Path | None:
    """Render runtime_profile.md into the newest intact report folder and add it to that folder's manifest."""
    import json

    from ledger.editing.locking import workspace_lock
    from ledger.editing.writes import write_bytes_atomic
    from ledger.reading.audit.integrity import FolderStatus, check_folder
    from ledger.reading.sparkline import sparkline_svg
    from ledger.render import Renderer
    from ledger.running.evidence import sha256_file, write_manifest

    # Never write into (and re-hash) a folder whose evidence no longer matches its manifest:
    # that would launder an edited log.
    intact = [
        (f, m)
        for f, m in manifests
        if m.get("complete") is True and check_folder(f).status == FolderStatus.INTACT
    ]
    if not intact:
        return None
    folder, manifest = intact[-1]
    env = {}
    try:
        env = json.loads((folder / "env.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    timed = [r for r in profile.runs if r.complete and r.duration_s is not None]
    bands = asdict(profile.bands) if profile.bands else None
    text = Renderer(ws.templates_dir).render(
        "runtime_profile.md.j2",
        profile=profile,
        runs=timed,
        bands=bands,
        warn_factor=ws.config.guardrail_warn,
        fail_factor=ws.config.guardrail_fail,
        baseline_runs=ws.config.baseline_runs,
        hub=ws.relative(folder) + "/",
        manifest=manifest,
        env=env,
        generated_at=now,
        sparkline=sparkline_svg(
            [r.duration_s for r in timed if r.duration_s is not None],
            [r.outcome or "" for r in timed],
            bands,
        ),
    )
    target = folder / "runtime_profile.md"
    with workspace_lock(ws.root, lock_timeout_s):
        write_bytes_atomic(target, text.encode("utf-8"))
        # The profile is evidence too: the manifest's hashes cover it, so audit still sees an intact folder.
        files = {**manifest["files"], "runtime_profile.md": sha256_file(target)}
        write_manifest(folder, {**manifest, "files": files, "profile_written_at": now})
    return target
