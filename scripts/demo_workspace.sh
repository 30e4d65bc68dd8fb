#!/usr/bin/env bash
# Build a scratch git workspace from the embedded example (plans, ledger, findings, workload test).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
demo="$1"

rm -rf "$demo"
mkdir -p "$demo/plans/active/TEST-PYTORCH-001" "$demo/docs" "$demo/tests"
cp "$here"/plans/active/TEST-PYTORCH-001/*.md "$demo/plans/active/TEST-PYTORCH-001/"
cp "$here/docs/fix_plan.md" "$here/docs/findings.md" "$demo/docs/"
cp -r "$here/tests/torch" "$demo/tests/"
find "$demo" -name __pycache__ -prune -exec rm -rf {} +
cat > "$demo/ledger.toml" <<'TOML'
[tool.ledger]
env = { CUDA_VISIBLE_DEVICES = "" }
TOML
# Its own pytest root, so pytest never climbs into an enclosing project's configuration.
printf '[pytest]\n' > "$demo/pytest.ini"
printf '.ledger.lock\n__pycache__/\n.pytest_cache/\n' > "$demo/.gitignore"

git -C "$demo" init --quiet --initial-branch=main
git -C "$demo" add -A
git -C "$demo" -c user.name=demo -c user.email=demo@example.invalid commit --quiet -m "example workspace"
