#!/usr/bin/env bash
# The package as a user gets it: build the sdist and wheel, `twine check` them, install the
# wheel into a fresh virtual environment outside the source tree and run the README's main
# command there (against the built-in sandbox, from an empty directory).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 -m pip install --quiet --disable-pip-version-check build twine
python3 -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
# Deprecation warnings from the build backend are a failure: they become errors later.
if grep -i "deprecat" "$work/build.log" >&2; then
    echo "package.sh: the build warns of a deprecation (above)" >&2
    exit 1
fi
python3 -m twine check --strict "$work"/dist/*

wheel="$(ls "$work"/dist/*.whl)"
# Listed into a variable first: `grep -q` closing a pipe early fails the lister under pipefail.
contents="$(python3 -m zipfile -l "$wheel")"
grep -q "telegent_iac/py.typed" <<<"$contents" || { echo "package.sh: py.typed missing from the wheel" >&2; exit 1; }
grep -q "licenses/LICENSE" <<<"$contents" || { echo "package.sh: LICENSE missing from the wheel" >&2; exit 1; }

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
mkdir "$work/run"
cp "$repo/examples/workgroups.yaml" "$work/run/"
cd "$work/run"
export TELEGENT_RATE_LIMIT=0  # the sandbox's pacing only makes CI wait here
# The README's main command, twice: the second run must find nothing to do.
"$work/venv/bin/telegent-iac" apply --sandbox --auto-approve workgroups.yaml
"$work/venv/bin/telegent-iac" plan --sandbox --detailed-exitcode workgroups.yaml
"$work/venv/bin/telegent-iac" --version
echo "package.sh: built, checked, installed outside the tree and ran" >&2
