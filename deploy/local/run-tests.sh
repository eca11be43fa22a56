#!/usr/bin/env bash
# Runs the test layers against real services: unit (no I/O), integration (Kafka + PostgreSQL
# only), e2e (the whole stack as `make up` starts it). Each layer starts from fresh data.
set -euo pipefail
cd "$(dirname "$0")/../.."
UV=${UV:-uv}
STACK="$UV run --frozen python -m deploy.local.stack"
PYTEST="$UV run --frozen pytest"
what=${1:-all}
export REQUIRE_SERVICES=1
# Tests open many trades in distinct signal-weeks.
export RISK_MAX_OPEN_TRADES=${RISK_MAX_OPEN_TRADES:-100000}
export RISK_MAX_MARGIN=${RISK_MAX_MARGIN:-1000000000000}

pytest_layer() {
  # pytest exits 5 when it collected no test: that is a failure here.
  local rc=0
  $PYTEST "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then echo "no tests ran in $*" >&2; return 1; fi
  return "$rc"
}

cleanup() { $STACK down >/dev/null 2>&1 || true; }

if [ "$what" = all ] || [ "$what" = unit ]; then
  pytest_layer tests/unit -q -p no:cacheprovider
fi
if [ "$what" = all ] || [ "$what" = integration ]; then
  trap cleanup EXIT
  $STACK up --fresh --infra-only
  eval "$($STACK env)"
  pytest_layer tests/integration -q -p no:cacheprovider
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
  trap cleanup EXIT
  $STACK up --fresh
  eval "$($STACK env)"
  pytest_layer tests/e2e -q -p no:cacheprovider
fi
