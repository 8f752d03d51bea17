#!/usr/bin/env bash
# Unpacks the official OTLP .proto files (scripts/otlp-proto/pom.xml: the OpenTelemetry project's
# own Maven artifact) into .otlp-proto/opentelemetry/proto/...; idempotent, offline once done.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pom="$root/scripts/otlp-proto/pom.xml"
out="$root/.otlp-proto"
stamp="$out/pom.sha256"
want=$(sha256sum "$pom" | cut -d' ' -f1)
[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && exit 0
command -v mvn >/dev/null || { echo "otlp-proto: Maven (mvn) and Java are needed to fetch the OTLP .proto files" >&2; exit 1; }
rm -rf "$out"
mvn -q -B -Dstyle.color=never -f "$pom" dependency:unpack-dependencies -DexcludeTransitive=true -Dmdep.unpack.includes='**/*.proto' -DoutputDirectory="$out" -DmarkersDirectory="$out/.markers"
[ -f "$out/opentelemetry/proto/logs/v1/logs.proto" ] || { echo "otlp-proto: no logs.proto in the artifact" >&2; exit 1; }
echo "$want" >"$stamp"
echo "otlp-proto: the OTLP .proto files are in $out"
