"""Site data assembly, escaping, relative links and the inline SVG runtime chart."""

import html
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.errors import BadInput
from ledger.html import pages
from ledger.html.charts import ChartBox, format_duration, runtime_svg
from ledger.html.pages import relative_link
from ledger.html.site import build_site
from ledger.html.text import inline_code, markdown_block, markdown_inline
from ledger.reading.audit.model import AuditClass, Reason, RowAudit
from ledger.workspace import Workspace
from tests.integration.site_factory import HOSTILE, RUNS, make_site_workspace

SVG = "{http://www.w3.org/2000/svg}"
BANDS = {"baseline": 10.0, "warn": 17.0, "fail": 25.0}


def runs(*durations, outcome="passed"):
    return [{"duration_s": d, "outcome": outcome, "when": f"t{i}"} for i, d in enumerate(durations)]


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))


# ---------------------------------------------------------------- SVG chart


def test_chart_has_one_point_per_timed_run_and_a_trend_line():
    root = parse(runtime_svg(runs(1.0, 2.0, None, 3.0), None))
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}circle")) == 3
    assert root.find(f"{SVG}polyline") is not None
    assert not root.findall(f"{SVG}rect")  # no bands without a baseline


def test_chart_longer_runs_are_drawn_higher():
    root = parse(runtime_svg(runs(1.0, 5.0, 2.0), None))
    ys = [float(c.get("cy")) for c in root.findall(f"{SVG}circle")]
    xs = [float(c.get("cx")) for c in root.findall(f"{SVG}circle")]
    assert ys[1] < ys[2] < ys[0]
    assert xs == sorted(xs) and len(set(xs)) == 3


def test_chart_bands_are_stacked_ok_warn_fail_with_baseline():
    root = parse(runtime_svg(runs(9.0, 11.0, 30.0), BANDS))
    rects = {r.get("class"): r for r in root.findall(f"{SVG}rect")}
    assert set(rects) == {"band-ok", "band-warn", "band-fail"}
    top = lambda r: float(r.get("y"))  # noqa: E731
    bottom = lambda r: float(r.get("y")) + float(r.get("height"))  # noqa: E731
    assert top(rects["band-fail"]) < top(rects["band-warn"]) < top(rects["band-ok"])
    assert bottom(rects["band-fail"]) == pytest.approx(top(rects["band-warn"]))
    assert bottom(rects["band-warn"]) == pytest.approx(top(rects["band-ok"]))
    baseline = root.find(f"{SVG}line[@class='baseline']")
    assert top(rects["band-ok"]) < float(baseline.get("y1")) < bottom(rects["band-ok"])
    # The 30 s run sits inside the fail band.
    worst = min(float(c.get("cy")) for c in root.findall(f"{SVG}circle"))
    assert top(rects["band-fail"]) <= worst <= bottom(rects["band-fail"])


def test_chart_scale_includes_the_fail_threshold():
    root = parse(runtime_svg(runs(1.0, 1.1), BANDS))
    fail = next(r for r in root.findall(f"{SVG}rect") if r.get("class") == "band-fail")
    assert float(fail.get("height")) > 0  # fail band visible even when every run is fast


@pytest.mark.parametrize("bands", [{"baseline": 0, "warn": 0, "fail": 0}, {"baseline": 5}, {"baseline": 9, "warn": 5, "fail": 7}, "x"])
def test_chart_ignores_unusable_bands(bands):
    root = parse(runtime_svg(runs(1.0, 2.0), bands if isinstance(bands, dict) else None))
    assert not root.findall(f"{SVG}rect")


def test_chart_without_timed_runs_says_so():
    svg = str(runtime_svg([{"duration_s": None, "outcome": "interrupted"}], None))
    assert "no timed runs" in svg
    parse(svg)


def test_chart_colours_points_by_outcome_and_escapes_text():
    data = runs(1.0) + [{"duration_s": 2.0, "outcome": "failed", "when": "<now>"}, {"duration_s": 3.0, "outcome": '"><x'}]
    svg = runtime_svg(data, None, label='row <A1> & "co"')
    root = parse(svg)
    classes = [c.get("class") for c in root.findall(f"{SVG}circle")]
    assert classes == ["pt passed", "pt failed", "pt unknown"]
    assert root.find(f"{SVG}title").text == 'row <A1> & "co"'
    assert "<now>" not in str(svg) and "&lt;now&gt;" in str(svg)


def test_chart_single_run_is_centred():
    box = ChartBox()
    (circle,) = parse(runtime_svg(runs(4.0), None, box)).findall(f"{SVG}circle")
    assert float(circle.get("cx")) == pytest.approx((box.pad_left + box.width - box.pad_right) / 2)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=1e6, allow_nan=False)), max_size=30),
    st.one_of(st.none(), st.floats(min_value=0.001, max_value=1e5).map(lambda b: {"baseline": b, "warn": 1.7 * b, "fail": 2.5 * b})),
)
def test_chart_is_always_well_formed_and_inside_its_box(durations, bands):
    box = ChartBox()
    root = parse(runtime_svg(runs(*durations), bands, box))
    for circle in root.findall(f"{SVG}circle"):
        assert 0 <= float(circle.get("cx")) <= box.width
        assert 0 <= float(circle.get("cy")) <= box.height
    assert len(root.findall(f"{SVG}circle")) == sum(d is not None for d in durations)


# ---------------------------------------------------------------- helpers


def test_inline_code_escapes_before_marking_code():
    out = str(inline_code('Run `pytest a.py::t -k "x<y"` then <script>'))
    assert out == 'Run <code>pytest a.py::t -k &quot;x&lt;y&quot;</code> then &lt;script&gt;'
    assert str(inline_code(None)) == ""


def test_plan_markdown_renders_code_spans_emphasis_and_links():
    out = str(markdown_inline("Run `a < b` *now*, **then** see [the docs](https://example.org/x?a=1&b=2) or [local](docs/x.md#y)"))
    assert out == ('Run <code>a &lt; b</code> <em>now</em>, <strong>then</strong> see '
                   '<a href="https://example.org/x?a=1&amp;b=2">the docs</a> or <a href="docs/x.md#y">local</a>')
    body = str(markdown_block("    - Summary: `pytest x` passed\n    - Next: *review*\n"))
    assert body == "<ul>\n<li>Summary: <code>pytest x</code> passed</li>\n<li>Next: <em>review</em></li>\n</ul>\n"


HOSTILE_MARKDOWN = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JavaScript&#58;alert(1))",
    "[x](  javascript:alert(1) )",
    "<javascript:alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox(1))",
    "![x](https://evil.example/x.png)",
    '<a href="javascript:alert(1)">x</a>',
    "`code` <svg onload=alert(1)>",
    "[x]: javascript:alert(1)\n\n[x]",
]


class _Tags(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.tags = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
@pytest.mark.parametrize("render", [markdown_inline, markdown_block])
def test_hostile_markdown_never_becomes_markup(text, render):
    tags = _Tags(str(render(text))).tags
    assert {tag for tag, _ in tags} <= {"p", "code", "a"}, tags
    for _tag, attrs in tags:
        assert set(attrs) <= {"href"}, tags  # no on* handler, no src
        assert not attrs.get("href", "").lower().startswith(("javascript", "data", "vbscript")), tags


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(list("ab 1.:;-'\"(){}#+=/?%é\t``_*<>&\\\n[]!") + ["` `", "  ", "[x](y)", "`a_b`", "`<x>`"]),
                max_size=30).map("".join))
@example("Phase A.A1: ran `pytest tests/x.py::t -q`; see `reports/2026/` 'ok' \"q\"")
@example("` a `")
@example("`  `")
@example("` `")
@example("`a`b`")
@example("``a``")
@example("`a` `` `b`")
@example("a  ")
@example("see `reports/x/phase_a_work/{pytest.log,summary.md}` (POLICY-001) and `a<b & c\\`")
@example("`a\nb`")
def test_plain_text_and_code_span_fast_paths_show_what_markdown_it_shows(text):
    """Text with no Markdown syntax but code spans skips the parser: the page must read the same."""
    from markdown_it import MarkdownIt

    from ledger.html.text import safe_url

    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    md.validateLink = safe_url
    assert html.unescape(str(markdown_inline(text))) == html.unescape(md.renderInline(text))


def test_markdown_it_is_imported_only_when_plan_text_needs_it():
    probe = ("import sys; from ledger.html import site, pages, text; "
             "text.markdown_inline('plain words'); print('markdown_it' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_hostile_plan_cells_and_attempts_reach_the_page_only_as_text(ws):
    plan = ws.root / "plans/active/DEMO-001/implementation.md"
    hostile = " ".join(t for t in HOSTILE_MARKDOWN if "\n" not in t)
    plan.write_text(plan.read_text().replace("Prose only.", f"Prose only. {hostile}"), encoding="utf-8")
    ledger = ws.root / "docs/fix_plan.md"
    ledger.write_text(ledger.read_text() + f"\n  * [2026-11-30] Attempt #9 — A1: {hostile}\n    - more: {hostile}\n", encoding="utf-8")
    build_site(Workspace.open(ws.root))
    for page in (ws.root / "site").rglob("*.html"):
        for tag, attrs in _Tags(page.read_text()).tags:
            assert tag not in ("script", "img", "svg") or (tag == "svg" and attrs.get("class") == "chart"), (page, tag, attrs)
            assert not any(name.startswith("on") for name in attrs), (page, tag, attrs)
            assert not attrs.get("href", "").lower().startswith(("javascript", "data", "vbscript")), (page, tag, attrs)
    page = (ws.root / "site/initiative/DEMO-001.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "[x](javascript:alert(1))" in page


def test_relative_link_from_page_to_evidence(tmp_path):
    page_dir = tmp_path / "site" / "initiative"
    folder = tmp_path / "plans/active/X/reports/2026-01-01T000000Z/phase a"
    folder.mkdir(parents=True)
    assert relative_link(folder, page_dir) == "../../plans/active/X/reports/2026-01-01T000000Z/phase%20a/"
    assert unquote(relative_link(folder / "log.txt", page_dir)).endswith("phase a/log.txt")


@pytest.mark.parametrize(
    "seconds, text", [(None, "–"), (0.0123, "12 ms"), (3.14159, "3.1 s"), (125, "2m05s"), (7325, "2h02m")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


# ---------------------------------------------------------------- whole site


@pytest.fixture
def ws(tmp_path):
    return Workspace.open(make_site_workspace(tmp_path / "ws"))


def test_build_site_writes_index_and_one_page_per_initiative(ws):
    result = build_site(ws)
    assert result["pages"] == ["site/index.html", "site/initiative/DEMO-001.html", "site/initiative/OTHER-002.html"]
    assert (result["initiatives"], result["rows"], result["runs"]) == (2, 11, len(RUNS))
    index = (ws.root / "site/index.html").read_text()
    assert index.count('class="card initiative"') == 2
    assert 'href="initiative/DEMO-001.html"' in index


def test_plan_text_is_escaped_everywhere(ws):
    build_site(ws)
    page = (ws.root / "site/initiative/DEMO-001.html").read_text()
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert HOSTILE.split()[0] not in page.replace("&lt;script&gt;", "")


def test_findings_the_plans_cite_are_listed_with_their_markdown(ws):
    findings = ws.root / "docs/findings.md"
    findings.write_text(
        "| Finding ID | Synopsis | Evidence Pointer | Status |\n| --- | --- | --- | --- |\n"
        "| POLICY-001 | Use `CUDA_VISIBLE_DEVICES=\"\"` on *CPU* runs <script>alert(1)</script> | "
        "[log](javascript:alert(1)) | Active |\n", encoding="utf-8")
    plan = ws.root / "plans/active/DEMO-001/implementation.md"
    plan.write_text(plan.read_text().replace("Prose only.", "Prose only. See POLICY-001 and CONFIG-009."), encoding="utf-8")
    build_site(Workspace.open(ws.root))
    page = (ws.root / "site/initiative/DEMO-001.html").read_text()
    section = re.search(r'<section class="card" id="findings">.*?</section>', page, re.S).group(0)
    assert '<li class="finding" id="finding-POLICY-001" data-finding="POLICY-001">' in section
    assert "Use <code>CUDA_VISIBLE_DEVICES=&quot;&quot;</code> on <em>CPU</em> runs &lt;script&gt;" in section
    assert "evidence: [log](javascript:alert(1))" in section and "Active" in section
    assert re.search(r'id="finding-CONFIG-009".*not defined in docs/findings.md', section, re.S)
    assert "cited at plans/active/DEMO-001/implementation.md:" in section
    assert 'id="findings"' not in (ws.root / "site/initiative/OTHER-002.html").read_text()


def test_every_relative_link_resolves_to_a_real_file_or_folder(ws):
    build_site(ws)
    for page in (ws.root / "site").rglob("*.html"):
        hrefs = re.findall(r'href="([^"#]+)', page.read_text())
        assert hrefs
        for href in hrefs:
            assert "://" not in href and not href.startswith("/"), href
            assert (page.parent / unquote(href)).exists(), f"{page.name}: {href}"


def test_row_data_points_at_the_newest_run(ws):
    builder = pages.PageData(ws, ws.root / "site")
    data = builder.initiative("DEMO-001")
    rows = {r["id"]: r for phase in data["phases"] for r in phase["rows"]}
    a1 = rows["A1"]
    assert len(a1["runs"]) == sum(1 for r in RUNS if r[0] == "A1")
    assert a1["latest"]["duration_s"] == 27.5 and a1["latest"]["outcome"] == "passed"
    assert a1["latest"]["short"].endswith("/phase_a_assessment/")
    assert [f["name"] for f in a1["latest"]["files"]] == ["env.json", "pytest.log", "summary.md", "manifest.json"]
    assert a1["selector"] == "pytest tests/test_demo.py::test_ok -q"
    assert rows["A3"]["latest"] is None and rows["A3"]["chart"] is None
    assert rows["A4"]["attempts"] == [{"label": "#1", "anchor": f"attempt-{data['attempts'][1]['line']}"}]  # "Phase A.A4"
    assert [a["number"] for a in data["attempts"]] == [0, 1]
    assert str(data["attempts"][0]["headline_html"]) == "Planning: created."
    assert data["counts"] == {"done": 1, "partial": 0, "open": 6}


def test_manifests_of_a_same_named_row_in_another_plan_are_not_mixed_in(ws):
    from datetime import datetime

    from tests.integration.site_factory import record_run

    record_run(ws.root, "DEMO-001", "A1", "phase_a_assessment", "failed", 99.0,
               datetime(2027, 1, 1, tzinfo=UTC), plan="plans/active/DEMO-001/other.md")
    data = pages.PageData(ws, ws.root / "site").initiative("DEMO-001")
    a1 = next(r for p in data["phases"] for r in p["rows"] if r["id"] == "A1")
    assert a1["latest"]["duration_s"] == 27.5


def test_rows_without_runs_link_the_newest_existing_folder_their_text_cites(ws):
    plan = ws.root / "plans/active/DEMO-001/implementation.md"
    cites = "see `reports/2026-10-01T000000Z/phase_a_x/` and reports/2026-10-02T000000Z/phase_a_y/ and reports/2026-10-03T000000Z/gone/"
    plan.write_text(plan.read_text().replace("Prose only.", cites), encoding="utf-8")
    for name in ("2026-10-01T000000Z/phase_a_x", "2026-10-02T000000Z/phase_a_y"):
        (ws.root / "plans/active/DEMO-001/reports" / name).mkdir(parents=True)
    ws = Workspace.open(ws.root)
    data = pages.PageData(ws, ws.root / "site").initiative("DEMO-001")
    rows = {r["id"]: r for phase in data["phases"] for r in phase["rows"]}
    assert rows["A4"]["cited"]["short"] == "2026-10-02T000000Z/phase_a_y/"
    assert rows["A4"]["cited"]["href"] == "../../plans/active/DEMO-001/reports/2026-10-02T000000Z/phase_a_y/"
    assert rows["A1"]["cited"] is None  # it has recorded runs
    build_site(ws)
    assert "cited in the plan · no manifest" in (ws.root / "site/initiative/DEMO-001.html").read_text()


def test_audit_classes_and_guardrails_come_from_their_switch_points(ws, monkeypatch):
    seen = {}

    def fake_audit(ws_, initiative, rows):
        seen["audit"] = initiative
        return {id(r): row_audit(r, AuditClass.VERIFIED if r.state == "done" else AuditClass.CLAIMED) for r in rows}

    def fake_bands(ws_, runs_):
        seen.setdefault("bands", []).append(len(runs_))
        return BANDS

    monkeypatch.setattr(pages.PageData, "audits", lambda self, i, rows: fake_audit(self.ws, i, rows))
    monkeypatch.setattr(pages, "guardrail_bands", fake_bands)
    build_site(ws)
    page = (ws.root / "site/initiative/DEMO-001.html").read_text()
    index = (ws.root / "site/index.html").read_text()
    assert 'data-audit="verified"' in page and 'class="band-fail"' in page
    assert '<li class="chip au-verified" data-audit="verified"><b>2</b> verified</li>' in index
    assert '<li class="chip au-claimed" data-audit="claimed"><b>9</b> claimed</li>' in index
    assert sorted(seen["bands"]) == [1, 2, 7]


def test_without_audit_module_rows_show_no_class(ws, monkeypatch):
    monkeypatch.setattr(pages.PageData, "audits", lambda self, i, rows: {id(r): None for r in rows})
    build_site(ws)
    index = (ws.root / "site/index.html").read_text()
    assert "audit: not available" in index


def row_audit(row, cls, **extra) -> RowAudit:
    return RowAudit(initiative="DEMO-001", row=row.id, qualified_id=row.display_id, description=row.description,
                    state=row.state, token=row.state_token, file="plans/active/DEMO-001/implementation.md",
                    line=row.line, audit=cls, **extra)


def test_rows_show_what_backs_their_class_in_the_audits_own_words(ws, monkeypatch):
    """Issue 14's classes on the page: attested by <key>, reproduced / not reproduced (linked
    to the `ledger verify` folder), inconsistent with the failed check named."""
    verify_dir = ws.root / "plans/active/DEMO-001/reports/2026-11-20T000000Z/verify_a1"
    verify_dir.mkdir(parents=True)
    verify = "plans/active/DEMO-001/reports/2026-11-20T000000Z/verify_a1/"

    def audits(self, initiative, rows):
        found = {}
        for row in rows:
            if row.id == "A1":
                found[id(row)] = row_audit(row, AuditClass.VERIFIED, attested_by="k-3f9a", reproduction=[
                    {"at": "recorded", "reproduced": True, "why": "", "commit": "0" * 40, "folder": verify},
                    {"at": "head", "reproduced": False, "why": "1 failed", "commit": "1" * 40, "folder": verify},
                ], reasons=[Reason("passing run with intact manifest, cross-checks passed: x/")])
            elif row.id == "A2":
                found[id(row)] = row_audit(row, AuditClass.INCONSISTENT, reasons=[
                    Reason("passing run x/ does not hold up: check counts failed: manifest counts differ")])
            else:
                found[id(row)] = row_audit(row, AuditClass.OPEN)
        return found

    monkeypatch.setattr(pages.PageData, "audits", audits)
    build_site(ws)
    page = (ws.root / "site/initiative/DEMO-001.html").read_text()
    a1 = re.search(r'<tr class="row" id="row-A.A1".*?</tr>', page, re.S).group(0)
    assert 'data-audit-label="verified, attested by k-3f9a · reproduced · not reproduced at HEAD"' in a1
    assert 'attested by <code>k-3f9a</code>' in a1
    assert '<a class="repro ok" href="../../plans/active/DEMO-001/reports/2026-11-20T000000Z/verify_a1/"' in a1
    assert 'class="repro fail"' in a1 and ">not reproduced at HEAD</a>" in a1 and 'title="1 failed"' in a1
    assert '<details class="why">' in a1  # not reproduced fails the audit: the page says why
    a2 = re.search(r'<tr class="row" id="row-A.A2".*?</tr>', page, re.S).group(0)
    assert 'data-audit="inconsistent"' in a2 and "check counts failed: manifest counts differ" in a2
    assert '<details class="why">' in a2
    a3 = re.search(r'<tr class="row" id="row-A.A3".*?</tr>', page, re.S).group(0)
    assert "attested" not in a3 and "repro" not in a3 and '<details class="why">' not in a3
    for text in (page, (ws.root / "site/index.html").read_text()):
        assert '<li class="chip pr-attested" data-proof="attested"><b>1</b> attested</li>' in text
        assert '<li class="chip pr-not-reproduced" data-proof="not reproduced"><b>1</b> not reproduced</li>' in text
        assert '<li class="chip au-inconsistent" data-audit="inconsistent"><b>1</b> inconsistent</li>' in text


def test_a_failing_row_says_why_in_the_real_audits_words(ws):
    build_site(ws)
    page = (ws.root / "site/initiative/DEMO-001.html").read_text()
    a1 = re.search(r'<tr class="row" id="row-A.A1".*?</tr>', page, re.S).group(0)  # open, its newest run passed
    assert 'data-audit="contradicted"' in a1
    assert re.search(r'<details class="why"><summary>why</summary><div>[^<]*: still \[ \] but its newest run '
                     r'plans/active/DEMO-001/reports/[^<]* passed \(stale state\)</div></details>', a1)


def test_audit_classes_come_from_the_audit_vocabulary():
    assert tuple(c for c in AuditClass if c is not AuditClass.UNKNOWN) == pages.AUDIT_CLASSES


def test_a_verify_rerun_is_not_drawn_as_a_run_of_its_row(ws):
    """A `ledger verify` manifest names the row it re-ran; it checks a run, it is not one."""
    from ledger.running.evidence import VERIFY_TOOL, write_manifest

    folder = ws.root / "plans/active/DEMO-001/reports/2027-01-01T000000Z/verify_a1"
    folder.mkdir(parents=True)
    write_manifest(folder, {"version": 2, "complete": True, "tool": VERIFY_TOOL, "initiative": "DEMO-001", "row": "A1",
                            "plan": "plans/active/DEMO-001/implementation.md", "outcome": "failed", "duration_s": 99.0,
                            "verifies": "x/", "files": {}})
    data = pages.PageData(Workspace.open(ws.root), ws.root / "site").initiative("DEMO-001")
    a1 = next(r for p in data["phases"] for r in p["rows"] if r["id"] == "A1")
    assert len(a1["runs"]) == sum(1 for r in RUNS if r[0] == "A1")
    assert a1["latest"]["duration_s"] == 27.5


def test_refuses_to_write_into_the_workspace_root(ws):
    with pytest.raises(BadInput, match="holds the workspace"):
        build_site(ws, ws.root)
    with pytest.raises(BadInput, match="holds the workspace"):
        build_site(ws, ws.root.parent)


def test_output_dir_outside_the_workspace_links_back(ws, tmp_path):
    out = tmp_path / "elsewhere" / "site"
    build_site(ws, out)
    page = (out / "initiative/DEMO-001.html").read_text()
    href = re.search(r'class="evidence-dir" href="([^"]+)"', page).group(1)
    assert href.startswith("../../../ws/plans/active/DEMO-001/reports/")
    assert (out / "initiative" / unquote(href)).is_dir()


def test_workspace_can_override_a_page_template(ws):
    override = ws.root / "templates/html/index.html.j2"
    override.parent.mkdir(parents=True)
    override.write_text('{% extends "html/base.html.j2" %}{% block main %}<p id="mine">{{ index.total }} rows</p>{% endblock %}')
    build_site(ws)
    index = (ws.root / "site/index.html").read_text()
    assert '<p id="mine">11 rows</p>' in index and "<style>" in index


def test_empty_workspace_renders(tmp_path):
    (tmp_path / "plans").mkdir()
    result = build_site(Workspace.open(tmp_path))
    assert result["initiatives"] == 0
    assert "No initiatives found" in (tmp_path / "site/index.html").read_text()


def test_pages_reference_no_external_assets(ws):
    build_site(ws)
    for page in (ws.root / "site").rglob("*.html"):
        text = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text)
        assert "<script src" not in text and "<link" not in text
