"""The data of the dashboard's pages: per initiative its phases, rows (state, audit,
selector, newest evidence, runtime chart) and attempts timeline, and the index's totals.

Plain dicts for the templates. The audit's own reading (ledger.reading.audit.RowClassifier)
supplies each row's class, its recorded runs and the attempts that name it. Links to
evidence are relative to the page that shows them.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from functools import cached_property
from pathlib import Path

from markupsafe import Markup

from ledger.documents.citations import is_inside, real_path
from ledger.documents.plan import Row, RowKind
from ledger.documents.states import RowState
from ledger.errors import BadInput
from ledger.html.charts import runtime_svg, usable_bands
from ledger.html.text import markdown_block, markdown_inline
from ledger.reading.audit.model import FAILING, AuditClass, RowAudit, reproduction_label
from ledger.running.selector import find_selectors
from ledger.workspace import Workspace

# Row states as the dashboard orders them; "unknown": a token the state vocabulary does not know.
STATES = (RowState.DONE, RowState.PARTIAL, RowState.OPEN, "unknown")
# Audit classes, best first; a row of an unknown state is counted after them.
AUDIT_CLASSES = tuple(c for c in AuditClass if c is not AuditClass.UNKNOWN)
INITIATIVE_DIR = "initiative"


def guardrail_bands(ws: Workspace, runs: list[dict]) -> dict | None:
    """Baseline and warn/fail thresholds for a row's runs (ledger.reading.profile), or None (too few runs)."""
    from ledger.reading.profile import guardrails

    return guardrails(ws, runs)


_CITED_REPORT = re.compile(r"reports/(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:/([A-Za-z0-9_.-]+))?")


def relative_link(target: Path, page_dir: Path) -> str:
    """A URL path from a page's folder to `target` (a file or a folder), POSIX, percent-safe enough for hrefs."""
    rel = os.path.relpath(real_path(str(target)), real_path(str(page_dir)))
    rel = rel.replace(os.sep, "/")
    if os.path.isdir(target) and not rel.endswith("/"):
        rel += "/"
    return _quote_path(rel)


def file_links(folder: Path, folder_href: str, names: list[str], page_dir: Path) -> list[dict]:
    """{name, href} for files of `folder` (whose own link is `folder_href`), those whose real
    path leaves it left out. A plain name that is no symlink links as the folder's link plus
    the name: one lstat, where relative_link resolves the file's whole real path."""
    links = []
    for name in names:
        if (
            folder_href != "./"
            and name not in ("", ".", "..")
            and "/" not in name
            and os.sep not in name
        ):
            try:
                mode = os.lstat(os.path.join(folder, name)).st_mode
            except (OSError, ValueError):
                mode = 0  # absent (evidence never committed): a link to where it belongs, as relative_link gives
            if not stat.S_ISLNK(mode):
                links.append(
                    {
                        "name": name,
                        "href": folder_href
                        + _quote_path(name)
                        + ("/" if stat.S_ISDIR(mode) else ""),
                    }
                )
                continue
        if is_inside(folder, folder / name):
            links.append({"name": name, "href": relative_link(folder / name, page_dir)})
    return links


def _quote_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/._-~")


def _counts(values: list[str | None], keys: tuple[str, ...]) -> dict[str, int]:
    counter = Counter(v or "unknown" for v in values)
    return {
        key: counter.get(key, 0)
        for key in keys
        if counter.get(key, 0) or key in (RowState.DONE, RowState.PARTIAL, RowState.OPEN)
    }


def _audit_counts(values: list[str | None]) -> dict[str, int]:
    counter = Counter(v for v in values if v)
    ordered: dict[str, int] = {key: counter[key] for key in AUDIT_CLASSES if counter.get(key)}
    ordered.update({key: n for key, n in sorted(counter.items()) if key not in ordered})
    return ordered


# What backs a verified row further, as `ledger audit` counts it ("of verified: …").
PROOFS = ("attested", "reproduced", "not reproduced")


def _proof_counts(rows: list[dict]) -> dict[str, int]:
    attested = sum(1 for r in rows if r["attested_by"])
    reproduced = sum(
        1 for r in rows if r["reproduction"] and all(x["reproduced"] for x in r["reproduction"])
    )
    not_reproduced = sum(1 for r in rows if any(not x["reproduced"] for x in r["reproduction"]))
    return {
        key: n for key, n in zip(PROOFS, (attested, reproduced, not_reproduced), strict=True) if n
    }


def _percentages(counts: dict[str, int], total: int) -> list[dict]:
    """Stacked-bar segments: state, count and width in percent (widths sum to 100)."""
    if total <= 0:
        return []
    return [
        {
            "state": state,
            "count": counts.get(state, 0),
            "pct": round(100.0 * counts.get(state, 0) / total, 3),
        }
        for state in STATES
        if counts.get(state, 0)
    ]


class PageData:
    """Plain data for every page of the site, computed once per workspace."""

    def __init__(self, ws: Workspace, out_dir: Path):
        self.ws = ws
        self.out_dir = out_dir

    @cached_property
    def classifier(self):
        from ledger.reading.audit import RowClassifier

        # Every initiative's runs read up front, so their commits are asked of git in one call.
        return RowClassifier(self.ws, self.ledger_doc, self.ws.initiatives())

    def audits(self, initiative: str, rows: list[Row]) -> dict[int, RowAudit | None]:
        """The audit of each row (keyed by id(row)); the ledger is parsed once for the whole site."""
        return dict(self.classifier.classify(initiative, rows))

    def runs_of(self, initiative: str, row: Row) -> list[tuple[Path, dict]]:
        """The row's recorded runs, oldest first: the audit's own list and its already-read
        manifests (a `ledger verify` re-run checks a run; it is not one of the row's runs)."""
        evidence = self.classifier.evidence(initiative)
        return [
            (folder, evidence.checker.check(folder).manifest)
            for folder in evidence.recorded_folders(row)
        ]

    def attempts_naming(self, initiative: str, row: Row) -> set[int]:
        """id() of each ledger attempt that names the row: the audit's own answer (it asked first)."""
        return {
            id(found.attempt) for found in self.classifier.evidence(initiative).attempts_naming(row)
        }

    @cached_property
    def ledger_doc(self):
        return self.ws.ledger_doc()  # parsed once, shared with the plans' ledger rows

    def initiative_page_dir(self) -> Path:
        return self.out_dir / INITIATIVE_DIR

    def initiative(self, initiative: str) -> dict:
        ws = self.ws
        page_dir = self.initiative_page_dir()
        plans = ws.plans(initiative)
        rows = [row for plan in plans for row in plan.rows]
        audit = self.audits(initiative, rows)
        timeline = self.timeline(initiative)
        attempts = [data for _, data in timeline]
        phases: list[dict] = []
        for plan in plans:
            by_phase: dict[int, list[Row]] = {}
            for row in plan.rows:
                by_phase.setdefault(row.phase.line if row.phase else 0, []).append(row)
            for line, phase_rows in by_phase.items():
                phase = phase_rows[0].phase
                row_data = [
                    self.row(
                        initiative,
                        row,
                        audit.get(id(row)),
                        self.runs_of(initiative, row),
                        _naming(timeline, self.attempts_naming(initiative, row)),
                        page_dir,
                    )
                    for row in phase_rows
                ]
                counts = _counts([r["state"] for r in row_data], STATES)
                phases.append(
                    {
                        "key": phase.key if phase else None,
                        "title": phase.title if phase else "(no heading)",
                        "anchor": _anchor(ws.relative(plan.path), line),
                        "file": ws.relative(plan.path),
                        "line": line,
                        "rows": row_data,
                        "total": len(row_data),
                        "counts": counts,
                        "segments": _percentages(counts, len(row_data)),
                        "audit_counts": _audit_counts([r["audit"] for r in row_data]),
                        "proof_counts": _proof_counts(row_data),
                    }
                )
        all_rows = [r for phase in phases for r in phase["rows"]]
        counts = _counts([r["state"] for r in all_rows], STATES)
        title = next((plan.title for plan in plans if plan.title), None)
        if title:
            title = re.sub(r"^\s*" + re.escape(initiative) + r"\s*[—–:-]+\s*", "", title) or None
        runs = sum(len(r["runs"]) for r in all_rows)
        return {
            "id": initiative,
            "title": title,
            "page": f"{INITIATIVE_DIR}/{initiative}.html",
            "plans": [
                {"path": ws.relative(plan.path), "href": relative_link(plan.path, page_dir)}
                for plan in plans
            ],
            "total": len(all_rows),
            "done": counts.get(RowState.DONE, 0),
            "counts": counts,
            "segments": _percentages(counts, len(all_rows)),
            "audit_counts": _audit_counts([r["audit"] for r in all_rows]),
            "proof_counts": _proof_counts(all_rows),
            "audit_available": any(r["audit"] for r in all_rows) or not all_rows,
            "phases": phases,
            "attempts": attempts,
            "runs": runs,
            "latest_run": max(
                (r["latest"]["when"] for r in all_rows if r["latest"] and r["latest"]["when"]),
                default=None,
            ),
            "diagnostics": [str(d) for plan in plans for d in plan.diagnostics],
            **self.findings(initiative),
        }

    def row(
        self,
        initiative: str,
        row: Row,
        audit: RowAudit | None,
        mine: list[tuple[Path, dict]],
        mentions: list[dict],
        page_dir: Path,
    ) -> dict:
        """One row's data; `mine`: its recorded runs (folder, manifest), oldest first; `mentions`:
        the attempts naming it, in timeline order."""
        ws = self.ws
        plan_rel = ws.relative(row.path)
        runs = [
            {
                "duration_s": m.get("duration_s"),
                "outcome": m.get("outcome") or ("incomplete" if not m.get("complete") else None),
                "when": m.get("finished_at") or m.get("started_at") or folder.parent.name,
                "complete": bool(m.get("complete")),
                "dir": ws.relative(folder) + "/",
                "short": f"{folder.parent.name}/{folder.name}/",
                "href": relative_link(folder, page_dir),
            }
            for folder, m in mine
        ]
        latest = None
        if mine:
            folder, manifest = mine[-1]
            files: dict = manifest["files"] if isinstance(manifest.get("files"), dict) else {}
            latest = {
                **runs[-1],
                "counts": manifest.get("counts")
                if isinstance(manifest.get("counts"), dict)
                else None,
                "files": file_links(
                    folder, str(runs[-1]["href"]), [*sorted(files), "manifest.json"], page_dir
                ),
            }
        selectors = find_selectors(row.guidance) or find_selectors(row.description)
        cited = None if latest else self.cited_evidence(initiative, row, page_dir)
        bands = guardrail_bands(ws, [r for r in runs if r["complete"]]) if runs else None
        return {
            "id": row.id,
            "qualified_id": row.display_id,
            "description": row.description,
            "description_html": markdown_inline(row.description),
            "guidance_html": markdown_inline(row.guidance)
            if row.kind == RowKind.TABLE
            else Markup(""),
            "state": row.state,
            "token": row.state_token,
            **self.audit_data(audit, page_dir),
            "section": row.section,
            "file": plan_rel,
            "line": row.line,
            "selector": selectors[0] if selectors else None,
            "more_selectors": selectors[1:],
            "latest": latest,
            "cited": cited,
            "runs": runs,
            "bands": usable_bands(bands),
            "chart": runtime_svg(runs, bands, label=f"{row.id} runtime over {len(runs)} runs")
            if runs
            else None,
            "attempts": [{"label": a["number_label"], "anchor": a["anchor"]} for a in mentions],
        }

    @cached_property
    def initiative_ids(self) -> frozenset[str]:
        """Initiative ids look like finding ids (`TEST-PYTORCH-001`) and are none."""
        return frozenset(self.ws.initiatives())

    @cached_property
    def findings_doc(self):
        """The findings file, parsed once for the site; None when it cannot be read."""
        from ledger.documents.findings import load_findings

        try:
            return load_findings(self.ws.findings_path)
        except BadInput:
            return None

    def findings(self, initiative: str) -> dict:
        """The findings the initiative's plans cite, in citation order, each with its synopsis
        and evidence pointer as Markdown and where it is cited; an undefined one says so."""
        from ledger.documents.findings import find_citations

        doc = self.findings_doc
        if doc is None:
            return {"findings": [], "findings_file": None}
        cited: dict[str, list[str]] = {}
        for plan in self.ws.plans(initiative):
            if plan.from_ledger:
                continue  # the ledger's checklist rows: the ledger is not a plan file (as audit counts)
            for citation in find_citations(
                plan.source.text, plan.path, doc.categories, self.initiative_ids
            ):
                cited.setdefault(citation.id, []).append(
                    f"{self.ws.relative(citation.path)}:{citation.line}"
                )
        found = []
        for finding_id, places in cited.items():
            finding = doc.findings.get(finding_id)
            found.append(
                {
                    "id": finding_id,
                    "defined": finding is not None,
                    "line": finding.line if finding else None,
                    "date": finding.date if finding else "",
                    "status": finding.status if finding else "",
                    "synopsis_html": markdown_inline(finding.synopsis) if finding else Markup(""),
                    "evidence_html": markdown_inline(finding.evidence) if finding else Markup(""),
                    "cited_at": places,
                }
            )
        return {"findings": found, "findings_file": self.ws.relative(doc.path)}

    def audit_data(self, audit: RowAudit | None, page_dir: Path) -> dict:
        """The row's audit as the page shows it: the class and, in the audit's own words, what
        backs it further (attestation, `ledger verify` results) or why it fails."""
        if audit is None:
            return {
                "audit": None,
                "audit_label": None,
                "attested_by": None,
                "reproduction": [],
                "audit_reason": None,
                "audit_failing": False,
            }
        return {
            "audit": audit.audit,
            "audit_label": audit.label,
            "attested_by": audit.attested_by,
            "reproduction": [
                {
                    "reproduced": result["reproduced"],
                    "label": reproduction_label(result),
                    "why": result.get("why") or "",
                    "folder": result["folder"],
                    "href": relative_link(self.ws.root / result["folder"], page_dir),
                }
                for result in audit.reproduction
            ],
            "audit_reason": str(audit.reasons[0]) if audit.reasons else None,
            "audit_failing": audit.audit in FAILING or audit.not_reproduced,
        }

    def cited_evidence(self, initiative: str, row: Row, page_dir: Path) -> dict | None:
        """The newest existing `reports/<TS>/<slug>/` folder the row's own text cites (no manifest needed)."""
        report_root = self.classifier.evidence(initiative).report_root  # resolved and confined once
        found: list[tuple[str, Path]] = []
        for match in _CITED_REPORT.finditer(row.own_text):
            timestamp, slug = match.group(1), match.group(2)
            stamp = os.path.join(report_root, timestamp)
            if slug and os.path.isdir(os.path.join(stamp, slug)):
                cited = os.path.join(stamp, slug)
            elif os.path.isdir(stamp):
                cited = stamp
            else:
                continue
            if is_inside(self.ws.root, cited):
                found.append((timestamp, Path(cited)))
        if not found:
            return None
        _, folder = max(found, key=lambda item: item[0])
        return {
            "dir": self.ws.relative(folder) + "/",
            "short": folder.relative_to(report_root).as_posix() + "/",
            "href": relative_link(folder, page_dir),
        }

    def attempts(self, initiative: str) -> list[dict]:
        return [data for _, data in self.timeline(initiative)]

    def timeline(self, initiative: str) -> list[tuple[int, dict]]:
        """The initiative's attempts in time order, as (id() of the ledger's Attempt, page data)."""
        doc = self.ledger_doc
        if doc is None:
            return []
        found = []
        for attempt in doc.timeline_for(initiative):
            first, _, rest = attempt.text.partition("\n")
            first = _LIST_MARK.sub("", first.strip())
            first = _HEADING_MARK.sub("", first)
            if attempt.label:
                first = first.removesuffix(f"({attempt.label})").rstrip()
            found.append(
                (
                    id(attempt),
                    {
                        "number": attempt.number,
                        "number_label": f"#{attempt.number}"
                        if attempt.number is not None
                        else attempt.date,
                        "date": attempt.date,
                        "line": attempt.line,
                        "anchor": f"attempt-{attempt.line}",
                        "label": attempt.label,
                        "rows": list(attempt.rows),
                        "text": attempt.text,
                        "headline_html": markdown_inline(_strip_attempt_prefix(first)),
                        "more": rest.strip(),
                        "more_html": markdown_block(rest),
                    },
                )
            )
        return found

    def index(self, initiatives: list[dict]) -> dict:
        totals: Counter[str] = Counter()
        audit: Counter[str] = Counter()
        proof: Counter[str] = Counter()
        for item in initiatives:
            totals.update(item["counts"])
            audit.update(item["audit_counts"])
            proof.update(item["proof_counts"])
        total_rows = sum(item["total"] for item in initiatives)
        return {
            "initiatives": initiatives,
            "total": total_rows,
            "counts": dict(totals),
            "segments": _percentages(dict(totals), total_rows),
            "audit_counts": _audit_counts(list(audit.elements())),
            "proof_counts": {key: proof[key] for key in PROOFS if proof[key]},
            "runs": sum(item["runs"] for item in initiatives),
        }


def _naming(timeline: list[tuple[int, dict]], naming: set[int]) -> list[dict]:
    """The attempts of `timeline` whose id() is in `naming`, in timeline order."""
    return [data for key, data in timeline if key in naming] if naming else []


_LIST_MARK = re.compile(r"^[*+-]\s+")
_HEADING_MARK = re.compile(r"^#+\s+")
_BRACKETED_DATE = re.compile(r"^(?:\*\*)?\[[^\]]*\](?:\*\*)?\s*")
_LEADING_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\S*\s+[—–-]+\s+")
_ATTEMPT_NUMBER = re.compile(r"^(?:\*\*)?Attempt\s+#\d+(?:\*\*)?\s*[—–:-]*\s*")


def _strip_attempt_prefix(text: str) -> str:
    """Drop what the timeline shows elsewhere: the date and `Attempt #N —`."""
    text = _BRACKETED_DATE.sub("", text)
    text = _LEADING_DATE.sub("", text)
    return _ATTEMPT_NUMBER.sub("", text)


def _anchor(file: str, line: int) -> str:
    return "p-" + re.sub(r"[^A-Za-z0-9]+", "-", f"{file}-{line}").strip("-").lower()
