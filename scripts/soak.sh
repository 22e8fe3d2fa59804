#!/bin/bash
# soak.sh - the soak test (`make soak`; not part of `make check`): runs the
# rig scenario tests/soak/linux-soak.sh, SOAK_CYCLES (default 100)
# hibernate/restore cycles of one Linux guest with its state checked every
# cycle and torpor's figures (image size, checkpoint and restore time, peak
# RSS) printed per cycle and tested for an upward trend.
#
# Usage: scripts/soak.sh          (after `make all`; `make soak` does both)
# Environment: SOAK_CYCLES; RIG_SCENARIO_TIMEOUT (seconds for the scenario,
# default 120 + 40 per cycle); what scripts/rig.sh takes (RIG_TIMEOUT, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

cycles=${SOAK_CYCLES:-100}
case $cycles in '' | *[!0-9]* | 0) echo "soak: SOAK_CYCLES='$cycles': want a positive number" >&2; exit 2 ;; esac
export SOAK_CYCLES=$cycles
# The boot and the last restore, then a budget per cycle.
export RIG_SCENARIO_TIMEOUT=${RIG_SCENARIO_TIMEOUT:-$((120 + cycles * 40))}
echo "soak: $cycles cycles, at most $RIG_SCENARIO_TIMEOUT s"
exec scripts/rig.sh linux-soak
