"""`ledger html` on the 200-initiative workspace of bench_audit (201 pages).

Reports the wall and CPU seconds of writing the site (median of `repeat`), and the
ratio of its CPU time to the CPU time of `ledger audit` on the same workspace measured
alternately: a ratio taken in the same conditions holds better than seconds on a shared
machine.

`python benchmarks/bench_html.py --against DIR` also times the code of another checkout
(DIR, e.g. an older commit from `git worktree add`) on the same workspace, alternating
with this one, and reports the ratio of the two: a before/after measured back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import median

REPO = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter so that each side imports its own `ledger` (PYTHONPATH first).
_TIMER = """
import json, sys, time
from pathlib import Path
from ledger.workspace import Workspace
root = Path(sys.argv[1])
what = sys.argv[2]
if what == "html":
    from ledger.html.site import build_site
    run = lambda: build_site(Workspace.open(root), root / "site")
else:
    from ledger.reading.audit import audit_workspace
    run = lambda: audit_workspace(Workspace.open(root))
wall, cpu = time.perf_counter(), time.process_time()
run()
print(json.dumps({"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}))
import ledger
print(ledger.__file__, file=sys.stderr)
"""


def time_once(code: Path, root: Path, what: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    # -P: `python -c` would put the current folder (a checkout, often this one) before PYTHONPATH.
    done = subprocess.run([sys.executable, "-P", "-c", _TIMER, str(root), what], env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(repeat: int = 3, against: Path | None = None) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_audit import build

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        build(root)
        # One untimed run first: the freshly written workspace's files come into the page
        # cache, which the first timed run would otherwise pay for alone.
        time_once(REPO, root, "html")
        load_before = load()
        html, audit, other = [], [], []
        for round_ in range(repeat):
            # Each side goes first every other round: neither always follows the other's work.
            sides = [("html", REPO), ("other", against)] if round_ % 2 == 0 else [("other", against), ("html", REPO)]
            for side, code in sides:
                if side == "html":
                    html.append(time_once(REPO, root, "html"))
                elif code is not None:
                    other.append(time_once(code, root, "html"))
            audit.append(time_once(REPO, root, "audit"))
        pages = len(list((root / "site").rglob("*.html")))
    result = {
        "pages": pages,
        "html_s": round(median([t["wall_s"] for t in html]), 3),
        "html_cpu_s": round(median([t["cpu_s"] for t in html]), 3),
        "audit_cpu_s": round(median([t["cpu_s"] for t in audit]), 3),
        "html_over_audit_cpu": round(median([h["cpu_s"] / a["cpu_s"] for h, a in zip(html, audit, strict=True)]), 3),
        "load_before": load_before,
        "load_after": load(),
    }
    if against is not None:
        result["against"] = str(against)
        result["against_html_cpu_s"] = round(median([t["cpu_s"] for t in other]), 3)
        result["against_html_s"] = round(median([t["wall_s"] for t in other]), 3)
        result["cpu_runs"] = {"this": [round(t["cpu_s"], 2) for t in html], "against": [round(t["cpu_s"], 2) for t in other]}
        result["this_over_against_cpu"] = round(median([h["cpu_s"] / o["cpu_s"] for h, o in zip(html, other, strict=True)]), 3)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout whose `ledger` to time alternately")
    args = parser.parse_args()
    print(json.dumps(main(args.repeat, args.against), indent=2))
