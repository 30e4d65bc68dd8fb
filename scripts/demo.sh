#!/usr/bin/env bash
# `make demo`: the embedded example workspace in a scratch git repo, and the main job run there.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
demo="${DEMO_DIR:-$here/demo}"

bash "$here/scripts/demo_workspace.sh" "$demo"

echo "== ledger do TEST-PYTORCH-001 D1   (workspace: $demo)"
status=0
(cd "$demo" && ledger do TEST-PYTORCH-001 D1) || status=$?

echo
echo "== evidence written"
find "$demo/plans/active/TEST-PYTORCH-001/reports" -type f | sed "s|$demo/||" | sort
echo
echo "== diff of the plan and the ledger"
git -C "$demo" --no-pager diff -- plans docs
exit $status
