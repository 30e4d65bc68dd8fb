"""`ledger verify` on real git histories: re-runs at the recorded commit and at HEAD, shards merged."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.running.verify import Target, parse_shard, shard_of
from ledger.errors import BadInput
from tests.conftest import git
from tests.integration.workspace_factory import make_workspace

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Reproduction

    ### Phase A — Runs
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | A1 | Passing selector | [ ] | Run `pytest tests/test_demo.py::test_ok -q`. |
    | A2 | Another passing test | [ ] | Run `pytest tests/test_demo.py::test_slow -q`. |
    | A3 | Marked by hand | [x] | Trust me. |
    """
)


def run(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--root", str(root)], catch_exceptions=False)


def audit_rows(root: Path) -> tuple[int, dict[str, dict]]:
    result = run(root, "audit", "--json")
    data = json.loads(result.stdout)
    return result.exit_code, {row["row"]: row for item in data["initiatives"] for row in item["rows"]}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A1 and A2 passed under `ledger do` at the first commit; then test_ok broke and that was committed."""
    import os

    root = make_workspace(tmp_path_factory.mktemp("verify") / "ws", plan=PLAN)
    saved = os.environ.get("LEDGER_KEY_PATH")
    os.environ["LEDGER_KEY_PATH"] = str(root.parent / "no-key")
    try:
        assert run(root, "do", "DEMO-001", "A1").exit_code == 0
        assert run(root, "do", "DEMO-001", "A2").exit_code == 0
    finally:
        if saved is None:
            os.environ.pop("LEDGER_KEY_PATH", None)
        else:
            os.environ["LEDGER_KEY_PATH"] = saved
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "A1 and A2 done")
    tests = root / "tests/test_demo.py"
    tests.write_text(tests.read_text().replace("assert 1 + 1 == 2", "assert 1 + 1 == 5"))
    git(root, "commit", "-q", "-am", "break test_ok")
    return root


@pytest.fixture
def ws(history, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(history, root, symlinks=True)
    return root


def test_reproduced_at_the_recorded_commit_even_after_the_test_broke(ws):
    result = run(ws, "verify", "DEMO-001", "A1", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    (only,) = data["results"]
    assert only["reproduced"] and only["at"] == "recorded" and "same outcome and counts (1 passed)" in only["why"]
    folder = ws / only["folder"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tool"] == "ledger verify" and manifest["verifies"] == only["verifies"]
    assert (folder / "junit.xml").is_file() and (folder / "pytest.log").is_file()
    # The worktree was outside the workspace and is gone.
    assert "worktree" not in git(ws, "worktree", "list").split("\n", 1)[-1]
    code, rows = audit_rows(ws)
    # The test changed after the run: stale (issue 15's freshness), and reproduced at its commit.
    assert rows["A1"]["label"] == "verified, stale · reproduced"
    assert not any(i["kind"] == "orphan_report" and "verify_" in i["message"] for i in json.loads(run(ws, "audit", "--json").stdout)["issues"])


def test_row_whose_test_broke_after_the_run_is_not_reproduced_at_head(ws):
    result = run(ws, "verify", "DEMO-001", "--at-head")
    assert result.exit_code == 1
    assert "NOT reproduced  DEMO-001 A.A1 at HEAD" in result.output
    assert "reproduced      DEMO-001 A.A2 at HEAD" in result.output
    assert "skipped         DEMO-001 A.A3: claimed: no verified run to re-run" in result.output
    code, rows = audit_rows(ws)
    assert rows["A1"]["audit"] == "verified" and rows["A1"]["label"] == "verified, stale · not reproduced at HEAD"
    assert "not reproduced at HEAD: failed" in "\n".join(r["text"] for r in rows["A1"]["reasons"])
    assert rows["A2"]["label"] == "verified, stale · reproduced at HEAD"  # same test file changed
    assert code == 1
    assert "not reproduced" in run(ws, "audit").output


def test_both_places_with_parallel_jobs(ws):
    result = run(ws, "verify", "--all", "--both", "--jobs", "2", "--json")
    data = json.loads(result.stdout)
    outcomes = {(r["row"], r["at"]): r["reproduced"] for r in data["results"]}
    assert outcomes == {("A.A1", "recorded"): True, ("A.A1", "head"): False, ("A.A2", "recorded"): True, ("A.A2", "head"): True}
    assert result.exit_code == 1


def test_sharded_run_on_two_machines_merged_from_two_shard_folders(ws, tmp_path):
    machines = []
    for index in (1, 2):
        clone = tmp_path / f"machine{index}"
        shutil.copytree(ws, clone, symlinks=True)
        result = run(clone, "verify", "--all", "--shard", f"{index}/2", "--out", str(tmp_path / "artifacts" / f"shard{index}"), "--json")
        assert result.exit_code == 0, result.output
        machines.append(json.loads(result.stdout))
    # The split is disjoint and complete: one verified row each.
    assert sorted(r["row"] for m in machines for r in m["results"]) == ["A.A1", "A.A2"]
    assert all(len(m["results"]) == 1 for m in machines)
    merged = run(ws, "verify", "--collect-shards", str(tmp_path / "artifacts"), "--json")
    data = json.loads(merged.stdout)
    assert merged.exit_code == 0, merged.output
    assert data["shards_seen"] == [1, 2] and data["missing_shards"] == [] and len(data["copied"]) == 2
    assert data["reproduced"] == 2
    code, rows = audit_rows(ws)
    assert rows["A1"]["label"] == rows["A2"]["label"] == "verified, stale · reproduced"  # their test file changed after the runs
    # Collecting again copies nothing twice.
    again = json.loads(run(ws, "verify", "--collect-shards", str(tmp_path / "artifacts"), "--json").stdout)
    assert again["copied"] == [] and again["reproduced"] == 2


def test_a_missing_shard_or_a_forged_result_fails_the_collection(ws, tmp_path):
    artifacts = tmp_path / "artifacts"
    assert run(ws, "verify", "--all", "--shard", "1/2", "--out", str(artifacts)).exit_code == 0
    (manifest,) = artifacts.rglob("manifest.json")
    manifest.write_text(manifest.read_text().replace('"reproduced": true', '"reproduced": false'))
    result = run(tmp_path_copy(ws, tmp_path), "verify", "--collect-shards", str(artifacts), "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert data["missing_shards"] == [2]
    assert data["copied"] == [] and "edited after it was written" in data["rejected"][0]


def tmp_path_copy(ws: Path, tmp_path: Path) -> Path:
    clone = tmp_path / "fresh"
    shutil.copytree(ws, clone, symlinks=True)
    for folder in (clone / "plans/active/DEMO-001/reports").glob("*/verify_*"):
        shutil.rmtree(folder)
    return clone


def test_verify_needs_an_initiative_or_all(ws):
    result = run(ws, "verify")
    assert result.exit_code == 2 and "--all" in result.output


def _target(initiative: str, row: str) -> Target:
    return Target(initiative, row, row, "plan.md", f"{initiative}/{row}/", {})


def test_shards_split_deterministically_whatever_the_order():
    targets = [_target(i, r) for i in ("B-1", "A-1") for r in ("A2", "A1", "A3")]
    first = [shard_of(targets, (i, 3)) for i in (1, 2, 3)]
    again = [shard_of(list(reversed(targets)), (i, 3)) for i in (1, 2, 3)]
    assert first == again
    assert sorted(t.key for part in first for t in part) == sorted(t.key for t in targets)
    assert all(len(part) == 2 for part in first)
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/2", "3/2", "x", "1/0"):
        with pytest.raises(BadInput):
            parse_shard(bad)


def test_a_run_recorded_with_uncommitted_changes_says_so(ws):
    from ledger.running.evidence import seal_manifest

    (manifest_path,) = [p for p in (ws / "plans/active/DEMO-001/reports").glob("*/*/manifest.json")
                        if json.loads(p.read_text()).get("row") == "A1"]
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(seal_manifest({**manifest, "git_dirty": True})))
    result = run(ws, "verify", "DEMO-001", "A1", "--json")
    (only,) = json.loads(result.stdout)["results"]
    assert only["reproduced"] and "had uncommitted changes" in only["why"]


def test_a_killed_verify_leaves_a_folder_the_next_repair_marks_abandoned(ws, tmp_path):
    """A verify registers its run as `do` does (editing.repair.RunClaim): killed while its
    re-run is going, its incomplete folder is marked abandoned by the next repair, never left
    looking like a run still in progress."""
    import os
    import signal
    import subprocess
    import time

    from tests.conftest import LEDGER_BIN

    marker = tmp_path / "started"
    env = {**os.environ, "SLOW_STARTED_MARKER": str(marker), "SLOW_SECONDS": "120"}
    env.pop("VIRTUAL_ENV", None)
    verify = subprocess.Popen(
        [str(LEDGER_BIN), "verify", "DEMO-001", "A2", "--root", str(ws)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert verify.poll() is None and time.monotonic() < deadline, "the re-run never started"
            time.sleep(0.02)
        verify.send_signal(signal.SIGKILL)
        verify.wait(timeout=30)
    finally:
        if verify.poll() is None:
            verify.kill()
    (folder,) = [p.parent for p in ws.glob("plans/active/DEMO-001/reports/*/verify_*a2/manifest.json")]
    before = json.loads((folder / "manifest.json").read_text())
    assert before["complete"] is False and "abandoned" not in before and before["run_id"]
    # Any writing command repairs first, under the lock (quietly; `repair` then has nothing left).
    result = run(ws, "repair")
    assert result.exit_code == 0, result.output
    after = json.loads((folder / "manifest.json").read_text())
    assert after["complete"] is False
    assert after["abandoned"]["why"] == "the ledger verify writing it was killed before it recorded its run"
    assert not [p for p in ws.rglob("*.run") if "ledger.runs" in str(p)]  # registration gone
