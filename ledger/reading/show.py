"""`ledger show`: one row with its selector, latest evidence, TDD pair and the attempts naming it."""

from __future__ import annotations

import re
from functools import lru_cache

from ledger.documents.fix_plan import parse_ledger
from ledger.documents.plan import Row
from ledger.errors import BadInput
from ledger.markdown.text import SourceText
from ledger.reading.status import row_data
from ledger.workspace import Workspace


@lru_cache(maxsize=4096)
def _id_patterns(row_id: str) -> tuple[re.Pattern, re.Pattern]:
    """(the id as a word, the id with an optional `<file>.md:` before it), compiled once per id."""
    bare = r"(?<![A-Za-z0-9])" + re.escape(row_id) + r"(?![A-Za-z0-9])"
    return re.compile(bare), re.compile(r"(?:([\w.-]+\.md):)?" + bare)


def mentions_row(text: str, row: Row) -> bool:
    """Does attempt text name this row (`D1`, `Phase D.D1`, `D.D1`, `TEST-X.D1`)?

    A row whose id repeats across phases (named `B.C1` by its reference) is not named by a
    mention of its twin (`A.C1`, `Phase A.C1`, `GOLD-001.A.C1`); a bare `C1` names both."""
    if not row.has_id:
        return row.ref in text  # an item with no id is named only by its reference
    if row.id not in text:
        return False  # the audit asks this of every attempt for every row: skip the regex
    bare, qualified = _id_patterns(row.id)
    own_phase = _twin_phase(row)
    if ".md:" not in text and own_phase is None:
        # No `<file>.md:` anywhere, so the prefix group never matches and every match is a
        # bare one: the same answer without trying that group at every position of the text.
        return bare.search(text) is not None
    for match in qualified.finditer(text):
        # `phase_2_checklist.md:0.A` names the 0.A of that file, not this file's 0.A.
        if match.group(1) not in (None, row.path.name):
            continue
        if own_phase is not None:
            start = match.end() - len(row.id)
            phase = _PHASE_QUALIFIER.search(text, max(0, start - 80), start)
            if phase is not None and phase.group(1) != own_phase:
                continue
        return True
    return False


# A phase key right before an id (`A.` in `A.C1`, `Phase A.C1`, `GOLD-001.A.C1`), never the tail
# of a hyphenated or longer word (`GOLD-001.C1` has none).
_PHASE_QUALIFIER = re.compile(r"(?<![\w-])([A-Za-z0-9]+)\.\Z")


def _twin_phase(row) -> str | None:
    """The phase key of a row told from a twin by its phase (reference `B.C1`), else None."""
    phase = getattr(row, "phase", None)
    key = getattr(phase, "key", None)
    ref = getattr(row, "ref", None)
    return key if key and ref != row.id and ref == f"{key}.{row.id}" else None


def red_green_pair(ws: Workspace, manifests: list) -> dict | None:
    """The row's TDD pair (see ledger.running.outcome.red_green_pair) as workspace paths."""
    from ledger.running.outcome import TddStep
    from ledger.running.outcome import red_green_pair as pair_of

    pair = pair_of([(folder, manifest.get("outcome")) for folder, manifest in manifests])
    if pair is None:
        return None
    red, green = pair
    return {
        TddStep.RED: ws.relative(red) + "/",
        TddStep.GREEN: ws.relative(green) + "/" if green else None,
    }


def row_details(ws: Workspace, initiative: str, reference: str) -> dict:
    # Only `show` reads runs and selectors: `status` stays light (see bench_startup).
    from ledger.running.evidence import row_manifests
    from ledger.running.selector import find_selectors

    row = ws.find_row(initiative, reference)
    selectors = find_selectors(row.guidance) or find_selectors(row.description)
    manifests = row_manifests(ws.report_root(initiative), row.id)
    latest = None
    if manifests:
        folder, manifest = manifests[-1]
        latest = {
            "report_dir": ws.relative(folder) + "/",
            "outcome": manifest.get("outcome"),
            "complete": manifest.get("complete"),
            "duration_s": manifest.get("duration_s"),
            "counts": manifest.get("counts"),
            "finished_at": manifest.get("finished_at"),
        }
    from ledger.running.interpreter import workspace_interpreter

    python: dict[str, str | None]
    try:
        python = dict(workspace_interpreter(ws).to_json())
    except BadInput as exc:
        python = {"path": None, "source": "config", "why": exc.message}
    attempts = []
    if ws.ledger_path.exists():
        try:
            doc = parse_ledger(SourceText.read(ws.ledger_path))
        except BadInput:
            doc = None
        if doc is not None:
            for attempt in doc.timeline_for(initiative):
                if row.id in attempt.rows or mentions_row(attempt.text, row):
                    attempts.append(
                        {
                            "number": attempt.number,
                            "date": attempt.date,
                            "line": attempt.line,
                            "text": attempt.text.split("\n", 1)[0],
                        }
                    )
    return {
        "initiative": initiative,
        "row": row_data(ws, row),
        "phase": row.phase.title if row.phase else None,
        "guidance": row.guidance,
        "selectors": selectors,
        "env_overrides": ws.config.env,
        "python": python,
        "tdd": red_green_pair(ws, manifests),
        "latest_evidence": latest,
        "runs": len(manifests),
        "attempts": attempts,
    }
