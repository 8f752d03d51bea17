#!/usr/bin/env bash
# Builds the otelcol-audit distribution from collector-config/manifest.yaml into .collector/.
#   npm run collector:build                  build, or reuse a binary that is up to date
#   npm run collector:build -- --update-lock re-resolve modules after a manifest change
# collector-config/lock/go.{mod,sum} pin every module and its checksum, so a build is reproducible
# and needs nothing but the Go toolchain and the module proxy.
set -euo pipefail

BUILDER_VERSION=v0.142.0
root=$(cd "$(dirname "$0")/.." && pwd)
manifest="$root/collector-config/manifest.yaml"
lock="$root/collector-config/lock"
out="$root/.collector"
bin="$out/otelcol-audit"
stamp="$out/build.sha256"
update_lock=false
[ "${1:-}" = "--update-lock" ] && update_lock=true

if ! command -v go >/dev/null 2>&1; then
  echo "build-collector: the Go toolchain is required to build otelcol-audit (https://go.dev/dl/);" >&2
  echo "install Go >= 1.24 and run 'npm run collector:build' again." >&2
  exit 1
fi

self="$root/scripts/build-collector.sh"
# What the binary is built from: the manifest, its lock and this script.
fingerprint() { cat "$manifest" "$lock/go.mod" "$lock/go.sum" "$self" 2>/dev/null | sha256sum | cut -d' ' -f1 || true; }
want=$(fingerprint)
if ! $update_lock && [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "build-collector: $bin is up to date with the manifest"
  exit 0
fi

mkdir -p "$out/bin"
if [ "$(cat "$out/bin/builder.version" 2>/dev/null)" != "$BUILDER_VERSION" ]; then
  echo "build-collector: installing the OpenTelemetry Collector Builder $BUILDER_VERSION"
  GOBIN="$out/bin" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
  echo "$BUILDER_VERSION" >"$out/bin/builder.version"
fi

echo "build-collector: building otelcol-audit (a first build downloads the modules and takes several minutes)"
start=$(date +%s)
cd "$root"
# The builder generates the sources only: its own `go mod tidy` also resolves the test-only
# dependencies of every imported package, and some of those are not served by the module proxy.
rm -rf "$out/src"
"$out/bin/builder" --config "$manifest" --skip-get-modules --skip-compilation
cd "$out/src"
rm -f go.mod go.sum
if $update_lock || [ ! -f "$lock/go.mod" ]; then
  go mod init otelcol-audit >/dev/null 2>&1
  # Pin every component and the collector core to the manifest's release.
  core_version=$(awk '/gomod: go.opentelemetry.io\/collector\/receiver\/otlpreceiver/ {print $4}' "$manifest")
  requires=(-require="go.opentelemetry.io/collector/otelcol@$core_version")
  while read -r module version; do requires+=(-require="$module@$version"); done \
    < <(awk '/^ *- gomod:/ {print $3, $4}' "$manifest")
  go mod edit "${requires[@]}"
  # The checksum database does not answer for every module through the proxy reachable here; the
  # go.sum written now is committed as the lock and verifies every later build.
  GOSUMDB=off GOFLAGS=-mod=mod go build -o /dev/null .
  mkdir -p "$lock"
  cp go.mod go.sum "$lock/"
  echo "build-collector: wrote $lock/go.mod and go.sum; commit them"
else
  cp "$lock/go.mod" "$lock/go.sum" .
fi
# -mod=readonly: a manifest that no longer matches the lock fails here instead of resolving anew.
# No debug symbols and -trimpath keep the binary smaller and independent of this machine's paths.
GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w" -o "$bin" . || {
  echo "build-collector: the build failed; if the manifest changed, run 'npm run collector:build -- --update-lock'" >&2
  exit 1
}
fingerprint >"$stamp"
echo "build-collector: built $bin in $(( $(date +%s) - start )) s ($(du -h "$bin" | cut -f1))"
