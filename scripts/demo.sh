#!/usr/bin/env bash
# Copy the embedded example workspace into a scratch git repo and run the main job there.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
demo="${DEMO_DIR:-$here/demo}"

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
printf '.ledger.lock\n__pycache__/\n' > "$demo/.gitignore"

git -C "$demo" init --quiet --initial-branch=main
git -C "$demo" add -A
git -C "$demo" -c user.name=demo -c user.email=demo@example.invalid commit --quiet -m "example workspace"

echo "== ledger do TEST-PYTORCH-001 D1 (in $demo)"
status=0
(cd "$demo" && ledger do TEST-PYTORCH-001 D1) || status=$?

echo
echo "== evidence written"
find "$demo/plans/active/TEST-PYTORCH-001/reports" -type f | sed "s|$demo/||" | sort
echo
echo "== diff of the plan and the ledger"
git -C "$demo" --no-pager diff --stat
git -C "$demo" --no-pager diff -- plans docs
exit $status
