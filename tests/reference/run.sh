#!/usr/bin/env bash
# Wire-compatibility check of libhoneyhive against HoneyHive's Python SDK (the reference).
#
#   bash tests/reference/run.sh [--scenario NAME]... [--dump DIR] [--verbose] [--quiet]
#                                                            (from any directory)
#
# Needs target/release/libhoneyhive.so and target/release/hh-receiver
# (cargo build --release --workspace). Creates or reuses the venv build/pyref-venv
# (override with HH_PYREF_VENV), installs requirements.txt quietly when it changed, starts the
# loopback receiver, runs compare.py and exits with its status:
# 0 = no unexpected difference, 1 = unexpected differences, 2 = harness failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${HH_PYREF_VENV:-$root/build/pyref-venv}"
lib="$root/target/release/libhoneyhive.so"
receiver="$root/target/release/hh-receiver"

for f in "$lib" "$receiver"; do
    if [[ ! -x "$f" && ! -f "$f" ]]; then
        echo "run.sh: $f is missing; build it first:" \
             "(cd $root && cargo build --release --workspace)" >&2
        exit 2
    fi
done

# --- the reference SDK's venv -----------------------------------------------------------------
python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "run.sh: creating $venv" >&2
    "$python" -m venv "$venv"
fi
stamp="$venv/.hh-reference-requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
    echo "run.sh: installing tests/reference/requirements.txt into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$here/requirements.txt"
    echo "$want" >"$stamp"
fi

# --- the README's table of deliberate differences names the same ids as deviations.py --------
"$venv/bin/python" "$here/compare.py" --check-readme || exit 1

# --- the loopback receiver --------------------------------------------------------------------
# It exits when its stdin (the coprocess pipe, held by this shell) closes, so it never
# outlives this script; the trap also stops it by its pid.
coproc RECV { exec "$receiver" --exit-on-stdin-eof 2>/dev/null; }
recv_pid=$RECV_PID
trap 'kill "$recv_pid" 2>/dev/null || true' EXIT
line=""
if ! read -r -t 10 line <&"${RECV[0]}" || [[ "$line" != HH_RECEIVER_URL=* ]]; then
    echo "run.sh: the receiver did not start (got: '$line')" >&2
    exit 2
fi
url="${line#HH_RECEIVER_URL=}"

set +e
"$venv/bin/python" "$here/compare.py" --receiver "$url" "$@"
status=$?
set -e
exit "$status"
