#!/usr/bin/env bash
# Benchmarks: one JSON object per figure on stdout. Pipeline figures run on a fresh stack.
set -euo pipefail
cd "$(dirname "$0")/../.."
UV=${UV:-uv}
STACK="$UV run --frozen python -m deploy.local.stack"
export RISK_MAX_OPEN_TRADES=${RISK_MAX_OPEN_TRADES:-1000000}
export RISK_MAX_MARGIN=${RISK_MAX_MARGIN:-1000000000000000}
# Each alert is two orders; the budget (at most 10/s) caps the pipeline at 5 alerts/s.
export RISK_ORDER_RATE_PER_S=${RISK_ORDER_RATE_PER_S:-10}
for script in bench/bench_*.py; do
  case "$script" in bench/bench_pipeline.py|bench/bench_kill_switch.py|bench/bench_executor_restart.py) continue;; esac
  $UV run --frozen python "$script"
done
trap '$STACK down >/dev/null 2>&1 || true' EXIT
$STACK up --fresh >&2
eval "$($STACK env)"
$UV run --frozen python bench/bench_executor_restart.py
$UV run --frozen python bench/bench_kill_switch.py
$UV run --frozen python bench/bench_pipeline.py
