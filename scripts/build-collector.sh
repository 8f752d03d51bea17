#!/usr/bin/env bash
# Builds the otelcol-audit distribution from collector-config/manifest.yaml into .collector/.
#   npm run collector:build                  build, or reuse a binary that is up to date
#   npm run collector:build -- --update-lock re-resolve modules after a manifest change
#   otel-audit collector build [--out dir]   the same from an installed package (OTELCOL_AUDIT_OUT)
# collector-config/lock/go.{mod,sum} pin every module and its checksum, so a build is reproducible
# and needs nothing but the Go toolchain and the module proxy.
set -euo pipefail

BUILDER_VERSION=v0.145.0
root=$(cd "$(dirname "$0")/.." && pwd)
# Our own component, built from this checkout's source (the go.mod of the build points at it).
lossless_module=github.com/otel-audit/otel-audit/collector/losslessexporter
lossless_dir="$root/collector/losslessexporter"
manifest="$root/collector-config/manifest.yaml"
lock="$root/collector-config/lock"
out="${OTELCOL_AUDIT_OUT:-$root/.collector}"
mkdir -p "$out" && out=$(cd "$out" && pwd)
bin="$out/otelcol-audit"
stamp="$out/build.sha256"
update_lock=false
[ "${1:-}" = "--update-lock" ] && update_lock=true

if ! command -v go >/dev/null 2>&1; then
  echo "build-collector: the Go toolchain is required to build otelcol-audit (https://go.dev/dl/);" >&2
  echo "install Go >= 1.24 and run the build again." >&2
  exit 1
fi

# How the binary is compiled; part of the fingerprint, so changing it rebuilds.
GO_BUILD_FLAGS=(-trimpath -ldflags="-s -w")
# What the binary is built from: the manifest, its lock, the builder and the compile flags (not this
# script's messages, so rewording one does not rebuild every checkout).
fingerprint() {
  {
    cat "$manifest" "$lock/go.mod" "$lock/go.sum"
    find "$lossless_dir" -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) ! -name '*_test.go' | sort | xargs cat
    echo "$BUILDER_VERSION ${GO_BUILD_FLAGS[*]}"
  } 2>/dev/null | sha256sum | cut -d' ' -f1 || true
}
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

echo "build-collector: building otelcol-audit into $out (a first build downloads the modules and takes several minutes)"
start=$(date +%s)
cd "$root"
# The builder only generates the Go sources here (its own `go mod tidy` also resolves the test-only
# dependencies of every imported package, some of which the module proxy does not serve); `go build`
# below compiles them. Its log, which announces that it will not compile, is shown only if it fails.
rm -rf "$out/src"
# The manifest's output_path is relative to the repository; point it at $out/src, wherever that is.
generate_manifest="$out/manifest.yaml"
sed "s#^\( *output_path:\).*#\1 $out/src#" "$manifest" >"$generate_manifest"
builder_log="$out/builder.log"
"$out/bin/builder" --config "$generate_manifest" --skip-get-modules --skip-compilation >"$builder_log" 2>&1 || {
  cat "$builder_log" >&2
  echo "build-collector: generating the sources from $manifest failed" >&2
  exit 1
}
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
  go mod edit -replace="$lossless_module=$lossless_dir"
  # The checksum database does not answer for every module through the proxy reachable here; the
  # go.sum written now is committed as the lock and verifies every later build.
  GOSUMDB=off GOFLAGS=-mod=mod go build -o /dev/null .
  mkdir -p "$lock"
  # The lock names no local path: the replace is made again on every machine, from its checkout.
  go mod edit -dropreplace="$lossless_module" -print >"$lock/go.mod"
  cp go.sum "$lock/"
  echo "build-collector: wrote $lock/go.mod and go.sum; commit them"
else
  cp "$lock/go.mod" "$lock/go.sum" .
  go mod edit -replace="$lossless_module=$lossless_dir"
fi
# -mod=readonly: a manifest that no longer matches the lock fails here instead of resolving anew.
# No debug symbols and -trimpath keep the binary smaller and independent of this machine's paths.
GOFLAGS=-mod=readonly go build "${GO_BUILD_FLAGS[@]}" -o "$bin" . || {
  echo "build-collector: the build failed; if the manifest changed, run 'npm run collector:build -- --update-lock'" >&2
  exit 1
}
fingerprint >"$stamp"
echo "build-collector: built $bin in $(( $(date +%s) - start )) s ($(du -h "$bin" | cut -f1))"
