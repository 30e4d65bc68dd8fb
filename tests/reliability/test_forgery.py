"""Forged evidence against `ledger audit`: each way of faking a pass, and the class audit gives it.

The forger here knows the format: where a one-word edit is caught by the manifest's own
hash, the same edit is also tried with every hash recomputed (`reseal`), and the named
cross-check that catches it is asserted. Real `ledger do` runs in a real git workspace,
made once and copied per test.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.running.evidence import hash_files, seal_manifest
from tests.integration.workspace_factory import make_workspace

PLAN = textwrap.dedent(
    """\
    # DEMO-001 — Forgery targets

    ### Phase A — Runs
    | ID | Task Description | State | How/Why & Guidance |
    | --- | --- | --- | --- |
    | A1 | Passing selector | [ ] | Run `pytest tests/test_demo.py::test_ok -q`. |
    | A2 | Failing selector | [ ] | Run `pytest tests/test_demo.py::test_bad -q`. |
    | A3 | Another test | [ ] | Run `pytest tests/test_demo.py::test_slow -q`. |
    """
)
REPORTS = "plans/active/DEMO-001/reports"
PLAN_FILE = "plans/active/DEMO-001/implementation.md"


def run(root: Path, *args: str):
    return CliRunner().invoke(main, [*args, "--root", str(root)], catch_exceptions=False)


def audit(root: Path, *args: str) -> tuple[int, dict[str, dict], dict]:
    result = run(root, "audit", "--json", *args)
    data = json.loads(result.output)
    rows = {row["row"]: row for item in data["initiatives"] for row in item["rows"]}
    return result.exit_code, rows, data


def reasons(row: dict) -> str:
    return "\n".join(r["text"] for r in row["reasons"])


def run_folder(root: Path, row: str) -> Path:
    (folder,) = [
        p.parent for p in sorted((root / REPORTS).glob("*/*/manifest.json"))
        if json.loads(p.read_text()).get("row") == row
    ]
    return folder


def cite(root: Path, row: str, folder: Path, state: str = "[x]") -> None:
    """Mark the row done (or `state`) citing `folder`, as a hand-editing agent would."""
    plan = root / PLAN_FILE
    lines = plan.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(f"| {row} |"):
            cells = line.split("|")
            cells[3] = f" {state} "
            cells[4] = cells[4].rstrip() + f" Artifacts: `{folder.relative_to(root / 'plans/active/DEMO-001').as_posix()}/` "
            lines[i] = "|".join(cells)
    plan.write_text("".join(lines))


def reseal(folder: Path, edit=None, rehash_files: bool = False) -> None:
    """Rewrite a manifest the way a forger who read ledger's source would: edit, recompute every hash."""
    manifest = json.loads((folder / "manifest.json").read_text())
    if edit:
        edit(manifest)
    if rehash_files:
        manifest["files"] = hash_files(folder)
    (folder / "manifest.json").write_text(json.dumps(seal_manifest(manifest), indent=2))


def edit_manifest_text(folder: Path, old: str, new: str) -> None:
    path = folder / "manifest.json"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A git workspace where A1 passed and A2 failed under `ledger do` (A2 left [P])."""
    root = make_workspace(tmp_path_factory.mktemp("forgery") / "ws", plan=PLAN)  # committed
    # The fixture runs outside any test's key isolation: no key, so nothing is attested.
    env = {"LEDGER_KEY_PATH": str(root.parent / "no-key")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert run(root, "do", "DEMO-001", "A1").exit_code == 0
        assert run(root, "do", "DEMO-001", "A2").exit_code == 1
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return root


@pytest.fixture
def ws(recorded, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(recorded, root, symlinks=True)
    return root


def test_genuine_run_is_verified(ws):
    code, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "verified" and "cross-checks passed" in reasons(rows["A1"])
    assert rows["A2"]["audit"] == "partial"
    assert code == 0


def test_hand_written_manifest_is_not_verified(ws):
    folder = ws / REPORTS / "2026-11-20T120000Z/phase_a_runs"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"complete": True, "outcome": "passed", "files": {}}))
    cite(ws, "A3", folder)
    code, rows, data = audit(ws)
    assert rows["A3"]["audit"] == "evidenced"
    assert "carries no content hash" in reasons(rows["A3"])
    assert any(i["kind"] == "unsealed_report" for i in data["issues"])
    assert run(ws, "audit", "--strict").exit_code == 1


def test_hand_written_manifest_claiming_version_2_is_tampered(ws):
    folder = ws / REPORTS / "2026-11-20T120000Z/phase_a_runs"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"version": 2, "complete": True, "outcome": "passed", "row": "A3", "files": {}}))
    cite(ws, "A3", folder)
    code, rows, _ = audit(ws)
    assert rows["A3"]["audit"] == "tampered" and "manifest_sha256) was removed" in reasons(rows["A3"])
    assert code == 1


def test_outcome_flipped_failed_to_passed_is_tampered(ws):
    folder = run_folder(ws, "A2")
    edit_manifest_text(folder, '"outcome": "failed"', '"outcome": "passed"')
    cite(ws, "A2", folder)
    code, rows, _ = audit(ws)
    assert rows["A2"]["audit"] == "tampered"
    assert "edited after it was written" in reasons(rows["A2"])
    assert code == 1


def test_outcome_flipped_with_hashes_recomputed_fails_the_outcome_check(ws):
    folder = run_folder(ws, "A2")

    def flip(manifest):
        manifest["outcome"], manifest["reason"] = "passed", None

    reseal(folder, flip)
    cite(ws, "A2", folder)
    code, rows, _ = audit(ws)
    assert rows["A2"]["audit"] == "inconsistent"
    assert "check outcome failed: recorded as passed but its evidence says failed: 1 failed, 0 errors of 1 tests" in reasons(rows["A2"])
    assert code == 1


def test_counts_edited_with_hashes_recomputed_fails_the_counts_check(ws):
    folder = run_folder(ws, "A1")

    def inflate(manifest):
        manifest["counts"] = {**manifest["counts"], "tests": 999, "passed": 999}

    reseal(folder, inflate)
    code, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "inconsistent" and "check counts failed" in reasons(rows["A1"])


def test_row_relabelled_is_tampered(ws):
    folder = run_folder(ws, "A1")
    edit_manifest_text(folder, '"row": "A1"', '"row": "A3"')
    cite(ws, "A3", folder)
    code, rows, _ = audit(ws)
    assert rows["A3"]["audit"] == "tampered" and code == 1


def test_row_relabelled_and_resealed_fails_the_selector_check(ws):
    folder = run_folder(ws, "A1")
    reseal(folder, lambda m: m.update(row="A3"))
    cite(ws, "A3", folder)
    code, rows, _ = audit(ws)
    assert rows["A3"]["audit"] == "inconsistent"
    assert "check selector failed: ran another selector: `pytest tests/test_demo.py::test_ok -q`" in reasons(rows["A3"])
    assert code == 1


def test_row_deleted_and_resealed_fails_the_row_check(ws):
    folder = run_folder(ws, "A1")
    reseal(folder, lambda m: m.pop("row"))
    cite(ws, "A3", folder)
    code, rows, _ = audit(ws)
    assert rows["A3"]["audit"] == "inconsistent"
    assert "check row failed: the manifest names no row" in reasons(rows["A3"])


def test_another_rows_run_cited_is_named_and_not_counted(ws):
    cite(ws, "A3", run_folder(ws, "A1"))
    code, rows, _ = audit(ws)
    assert rows["A3"]["audit"] == "evidenced"  # its files exist; they prove A1
    assert "a run of row A1: it proves that row, not this one" in reasons(rows["A3"])


def test_log_replaced_with_hashes_recomputed_fails_the_log_check(ws):
    folder = run_folder(ws, "A2")
    (folder / "pytest.log").write_text("============================= 999 passed in 1.00s =============================\n")
    reseal(folder, lambda m: m.update(outcome="passed", reason=None), rehash_files=True)
    cite(ws, "A2", folder)
    code, rows, _ = audit(ws)
    assert rows["A2"]["audit"] == "inconsistent"
    assert "check log_summary failed: pytest.log says 999 passed" in reasons(rows["A2"])


def test_log_and_junit_replaced_consistently_is_caught_only_by_reproduction(ws):
    """The limit of what a record can prove about itself: every file forged consistently
    (a passing JUnit, a matching log, hashes recomputed) verifies. `ledger verify` re-runs it."""
    folder = run_folder(ws, "A2")
    (folder / "pytest.log").write_text("1 passed in 0.01s\n")
    (folder / "junit.xml").write_text('<testsuites><testsuite tests="1"><testcase classname="t" name="test_bad"/></testsuite></testsuites>')
    reseal(folder, lambda m: m.update(outcome="passed", reason=None, exit_code=0, counts={"tests": 1, "passed": 1, "failed": 0, "errors": 0, "skipped": 0}), rehash_files=True)
    cite(ws, "A2", folder)
    _, rows, _ = audit(ws)
    assert rows["A2"]["audit"] == "verified"
    assert rows["A2"]["attested_by"] is None


def test_all_skipped_pass_fails_the_outcome_check(ws):
    folder = run_folder(ws, "A1")
    (folder / "junit.xml").write_text(
        '<testsuites><testsuite tests="1" skipped="1"><testcase classname="t" name="test_ok">'
        '<skipped message="no GPU"/></testcase></testsuite></testsuites>'
    )
    (folder / "pytest.log").write_text("1 skipped in 0.01s\n")
    reseal(folder, lambda m: m.update(counts={"tests": 1, "passed": 0, "failed": 0, "errors": 0, "skipped": 1}), rehash_files=True)
    _, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "inconsistent"
    assert "check outcome failed: recorded as passed but its evidence says skipped: all 1 tests skipped" in reasons(rows["A1"])


def test_pass_without_junit_fails_the_outcome_check(ws):
    folder = run_folder(ws, "A1")
    (folder / "junit.xml").unlink()
    reseal(folder, rehash_files=True)
    _, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "inconsistent" and "check outcome failed: recorded as passed with no JUnit report" in reasons(rows["A1"])


def test_future_folder_is_never_newest_and_hides_no_failure(ws):
    """A passing run copied into a 2099 folder (started_at moved along, hashes recomputed)
    while the row's real newest run failed: the failure still decides."""
    real = run_folder(ws, "A2")
    future = ws / REPORTS / "2099-01-01T000000Z/phase_a_runs"
    shutil.copytree(run_folder(ws, "A1"), future)
    reseal(future, lambda m: m.update(row="A2", started_at="2099-01-01T00:00:01Z", finished_at="2099-01-01T00:00:02Z",
                                      selector=json.loads((real / "manifest.json").read_text())["selector"]))
    cite(ws, "A2", future)
    code, rows, data = audit(ws)
    assert rows["A2"]["audit"] == "contradicted"
    assert "the newest run" in reasons(rows["A2"]) and real.parent.name in reasons(rows["A2"])
    assert "check times failed: recorded in the future" in reasons(rows["A2"])
    assert any(i["kind"] == "future_report" and i["failing"] for i in data["issues"])
    assert code == 1


def test_copied_folder_with_a_later_name_fails_the_times_check(ws):
    source = run_folder(ws, "A1")
    copy = ws / REPORTS / "2020-01-01T000000Z/phase_a_runs"  # renamed into the past: never future
    shutil.copytree(source, copy)
    shutil.rmtree(source)
    cite(ws, "A1", copy)
    _, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "inconsistent"
    assert "check times failed: folder 2020-01-01T000000Z does not match started_at" in reasons(rows["A1"])


def test_recorded_commit_not_in_the_repository_fails_the_commit_check(ws):
    reseal(run_folder(ws, "A1"), lambda m: m.update(git_commit=hashlib.sha1(b"forged").hexdigest()))
    _, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "inconsistent"
    assert "check commit failed: recorded commit" in reasons(rows["A1"]) and "is not in this repository" in reasons(rows["A1"])


def test_unrelated_selector_run_is_reported_as_such(ws):
    assert run(ws, "do", "DEMO-001", "A2", "--selector", "pytest tests/test_demo.py::test_ok -q").exit_code == 0
    code, rows, _ = audit(ws)
    assert rows["A2"]["audit"] == "inconsistent"
    assert ("check selector failed: ran another selector: `pytest tests/test_demo.py::test_ok -q`, "
            "but the row's selector is `pytest tests/test_demo.py::test_bad -q`") in reasons(rows["A2"])
    assert code == 1


# -- attestation ---------------------------------------------------------------------------

@pytest.fixture
def key(tmp_path, monkeypatch):
    path = tmp_path / "config/ledger/key"
    monkeypatch.setenv("LEDGER_KEY_PATH", str(path))
    return path


def test_key_init_makes_a_private_key_outside_the_workspace(ws, key):
    result = run(ws, "key", "init", "--json")
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["created"] and key.is_file()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    again = json.loads(run(ws, "key", "init", "--json").output)
    assert again["key_id"] == data["key_id"] and not again["created"]
    inside = run(ws, "key", "init", "--path", str(ws / "key"))
    assert inside.exit_code == 2 and "inside the workspace" in inside.output
    assert not (ws / "key").exists()


def test_run_with_a_key_is_attested_and_require_attested_passes(ws, key):
    key_id = json.loads(run(ws, "key", "init", "--json").output)["key_id"]
    # The run recorded before the key existed is not attested.
    code, rows, _ = audit(ws, "--require-attested")
    assert rows["A1"]["attested_by"] is None and code == 1
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    code, rows, _ = audit(ws, "--require-attested")
    assert rows["A1"]["label"] == f"verified, attested by {key_id}"
    assert code == 0
    text = run(ws, "audit", "--require-attested").output
    assert f"verified, attested by {key_id}" in text


def test_attested_manifest_resealed_without_the_key_is_tampered(ws, key):
    run(ws, "key", "init")
    assert run(ws, "do", "DEMO-001", "A2").exit_code == 1
    folder = sorted((ws / REPORTS).glob("*/phase_a_runs"))[-1]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["attestation"]["hmac_sha256"]
    attestation = manifest["attestation"]
    manifest["outcome"] = "passed"
    forged = seal_manifest(manifest)  # the forger has no key: keeps the old HMAC
    forged["attestation"] = attestation
    (folder / "manifest.json").write_text(json.dumps(forged))
    cite(ws, "A2", folder)
    _, rows, _ = audit(ws)
    assert rows["A2"]["audit"] == "tampered" and "does not match (rewritten without the key)" in reasons(rows["A2"])


def test_an_unknown_keys_attestation_is_not_counted(ws, key, tmp_path, monkeypatch):
    run(ws, "key", "init")
    assert run(ws, "do", "DEMO-001", "A1").exit_code == 0
    monkeypatch.setenv("LEDGER_KEY_PATH", str(tmp_path / "other-machine-key"))
    _, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "verified" and rows["A1"]["attested_by"] is None
    # An auditor given that key file (LEDGER_TRUSTED_KEYS) checks it.
    monkeypatch.setenv("LEDGER_TRUSTED_KEYS", str(key))
    _, rows, _ = audit(ws)
    assert rows["A1"]["attested_by"]


def test_explain_names_every_class():
    result = CliRunner().invoke(main, ["audit", "--explain"])
    assert result.exit_code == 0
    for name in ("verified", "attested", "reproduced", "evidenced", "claimed", "inconsistent", "contradicted", "tampered"):
        assert f"\n{name}\n" in "\n" + result.output
    assert "proves nothing against anyone who can read the key" in " ".join(result.output.split())


def test_a_later_all_skipped_run_neither_proves_nor_contradicts(ws):
    """An all-skipped run after the pass (GPU tests on a CPU machine) is not the row's newest word."""
    from datetime import datetime, timedelta

    source = run_folder(ws, "A1")
    started = datetime.strptime(source.parent.name, "%Y-%m-%dT%H%M%SZ") + timedelta(seconds=60)
    later = ws / REPORTS / started.strftime("%Y-%m-%dT%H%M%SZ") / "phase_a_runs"
    shutil.copytree(source, later)
    (later / "junit.xml").write_text(
        '<testsuites><testsuite tests="1" skipped="1"><testcase classname="t" name="test_ok">'
        '<skipped message="no GPU"/></testcase></testsuite></testsuites>'
    )
    (later / "pytest.log").write_text("1 skipped in 0.01s\n")
    reseal(later, lambda m: m.update(outcome="skipped", reason="all 1 tests skipped", started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     finished_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     counts={"tests": 1, "passed": 0, "failed": 0, "errors": 0, "skipped": 1}), rehash_files=True)
    code, rows, _ = audit(ws)
    assert rows["A1"]["audit"] == "verified" and rows["A1"]["proof"].startswith(f"{REPORTS}/{source.parent.name}/")
