#!/usr/bin/env bash
# Mutation testing of the safety-critical modules with mutmut (a manual benchmark, not CI:
# it takes about twenty minutes on a 2-core machine).
#
#   benchmarks/mutation.sh            # from the repository root, in the project's virtualenv
#   MUTATION_KEEP=1 benchmarks/mutation.sh   # keep the temporary copy for `mutmut show`/`browse`
#   MUTATION_JOBS=2 benchmarks/mutation.sh   # faster, but see below
#
# One worker by default: with two or more, the forked workers disturb each other's reactor
# and the control daemon's stop in tests/control/test_control_loops.py now and then fails
# (TypeError: "object NoneType can't be used in 'await' expression", from
# `await port.stopListening()`), which mutmut counts as a kill of whatever mutant was
# running; with one worker every result is deterministic.
#
# mutmut writes a mutants/ tree next to the code it mutates, so it never runs in the working
# tree: the tree is copied (without .git and build output) into a temporary directory, a
# [mutmut] section is written there, and mutmut runs on four modules:
#   rpymostat/decide/safety.py, rpymostat/decide/temperature.py       (engine: safety layer)
#   rpymostat_control/switchboard.py, rpymostat_control/lease.py      (relay unit)
# with the fast unit tests that exercise them.  Left out on purpose: tests with real ports or
# mDNS (control_loop/test_loop.py, control/test_control_service.py, acceptance/), and
# control/test_control_api.py, whose parametrized test ids (raw bytes, brackets) mutmut 3
# cannot select again, which would turn every mutant they cover into a false "timeout".
#
# Needs: the package installed in the current Python environment with its extras
# (pip install -e ".[all]" or as docs/install.rst says); mutmut is installed if missing.
# The results are in docs/benchmarks.rst, "Mutation testing".
set -euo pipefail

MUTMUT_VERSION="3.8.1"
PYTHON="${PYTHON:-python}"
JOBS="${MUTATION_JOBS:-1}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! "$PYTHON" -c "import rpymostat, rpymostat_control" 2>/dev/null; then
    echo "mutation.sh: rpymostat is not installed in $("$PYTHON" -c 'import sys; print(sys.prefix)')" >&2
    echo "  install it first, e.g. pip install -e '$REPO[all]'" >&2
    exit 2
fi
mutmut_version() {
    "$PYTHON" -c "import importlib.metadata as m; print(m.version('mutmut'))" 2>/dev/null
}
if ! mutmut_version >/dev/null; then
    echo "mutation.sh: installing mutmut==$MUTMUT_VERSION into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
    "$PYTHON" -m pip install --quiet "mutmut==$MUTMUT_VERSION"
fi
echo "mutation.sh: mutmut $(mutmut_version) (the figures in docs/benchmarks.rst are from $MUTMUT_VERSION)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rpymostat-mutation.XXXXXX")"
cleanup() {
    if [ "${MUTATION_KEEP:-0}" = "1" ]; then
        echo "mutation.sh: the copy is kept in $WORK (cd there; mutmut show <name>, mutmut browse)"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# The tree as it is (a clean checkout gives the committed state), minus what mutmut must not see.
tar -C "$REPO" --exclude=.git --exclude=mutants --exclude=.tox --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=build --exclude=dist -cf - . \
    | tar -C "$WORK" -xf -
cd "$WORK"

# The tests that exercise the four modules quickly; a file is taken where it exists (the loop
# tests moved from tests/decide/ to tests/control_loop/).
CANDIDATES=(
    tests/decide/test_decide.py
    tests/decide/test_safety_mutants.py
    tests/decide/test_evaluate.py
    tests/decide/test_loop_fail_safe.py tests/control_loop/test_loop_fail_safe.py
    tests/decide/test_loop_work.py tests/control_loop/test_loop_work.py
    tests/decide/test_outputs.py tests/control_loop/test_outputs.py
    tests/control/test_switchboard.py
    tests/control/test_switchboard_mutants.py
    tests/control/test_lease.py
    tests/control/test_restart.py
    tests/control/test_control_loops.py
    tests/control/test_state_writer.py
)
TESTS=()
for test_file in "${CANDIDATES[@]}"; do
    [ -f "$test_file" ] && TESTS+=("$test_file")
done

# Our section replaces any [mutmut] section the tree may have (mutmut would read a
# [tool.mutmut] table in pyproject.toml first: the tree has none).
"$PYTHON" - <<'EOF'
import configparser
import os

if os.path.exists("setup.cfg"):
    config = configparser.ConfigParser(interpolation=None)
    config.read("setup.cfg")
    if config.remove_section("mutmut"):
        with open("setup.cfg", "w") as stream:
            config.write(stream)
EOF
{
    echo
    echo "[mutmut]"
    echo "source_paths="
    for package in rpymostat rpymostat_control rpymostat_sensor rpymostat_webui; do
        echo "    $package"
    done
    echo "only_mutate="
    echo "    rpymostat/decide/safety.py"
    echo "    rpymostat/decide/temperature.py"
    echo "    rpymostat_control/switchboard.py"
    echo "    rpymostat_control/lease.py"
    echo "also_copy="
    echo "    pytest.ini"
    echo "pytest_add_cli_args_test_selection="
    for test_file in "${TESTS[@]}"; do
        echo "    $test_file"
    done
    echo "pytest_add_cli_args="
    echo "    -p"
    echo "    no:cacheprovider"
    # pytest-twisted's reactor cannot start twice in one process, and mutmut's default
    # (fork) mode runs the clean and forced-fail passes in its own process: a fork server
    # runs every pass in a fresh child instead.
    echo "process_isolation=forkserver"
} >> setup.cfg

export W1THERMSENSOR_NO_KERNEL_MODULE=1
echo "mutation.sh: mutating in $WORK with ${#TESTS[@]} test files, $JOBS workers"
echo "mutation.sh: the unmutated tests must pass first"
"$PYTHON" -m pytest -q -p no:cacheprovider "${TESTS[@]}"
# mutmut's progress line is rewritten in place thousands of times: keep only its end.
"$PYTHON" -m mutmut run --max-children "$JOBS" > mutmut-run.log 2>&1 || {
    tail -c 4000 mutmut-run.log >&2
    exit 1
}
tail -c 2000 mutmut-run.log | tr '\r' '\n' | tail -n 3

"$PYTHON" -m mutmut results --all true > mutmut-results.txt
"$PYTHON" - mutmut-results.txt <<'EOF'
"""Per module: total, killed (a test failed), timeout (a test hung: detected too), survived."""
import collections
import re
import sys

counts = collections.defaultdict(collections.Counter)
survivors = []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.strip()
    if not line or ": " not in line:
        continue
    name, status = line.rsplit(": ", 1)
    module = re.match(r"(.*?)\.x[_\u01c1]", name).group(1)
    counts[module][status] += 1
    if status not in ("killed", "timeout"):
        survivors.append(name)
print()
print(f"{'module':36} {'total':>6} {'killed':>7} {'timeout':>8} {'survived':>9} {'raw score':>10}")
for module in sorted(counts):
    c = counts[module]
    total = sum(c.values())
    detected = c["killed"] + c["timeout"]
    others = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("killed", "timeout", "survived"))
    print(f"{module:36} {total:6} {c['killed']:7} {c['timeout']:8} {c['survived']:9}"
          f" {100.0 * detected / total:9.1f}%" + (f"  ({others})" if others else ""))
print()
print("Raw score = (killed + timeout) / total.  Survivors that are equivalent mutants are listed,")
print("with the reason, in docs/benchmarks.rst; subtract them from the total for the final score.")
print()
print(f"{len(survivors)} not detected:")
for name in survivors:
    print("   ", name)
with open("survivors.txt", "w", encoding="utf-8") as out:
    out.write("\n".join(survivors) + "\n")
EOF

echo
echo "mutation.sh: the mutants no test detected:"
while IFS= read -r name; do
    [ -n "$name" ] && "$PYTHON" -m mutmut show "$name" 2>/dev/null | grep -v '^\(---\|+++\) '
done < survivors.txt
