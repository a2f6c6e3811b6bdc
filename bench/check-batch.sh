#!/usr/bin/env bash
# `mailpipeline check --batch` throughput (bench/RESULTS.md, "## check"). Run from anywhere:
#   bench/check-batch.sh [messages=2000] [parallel=cores] [runs=2]
# Builds the CLI in Release, generates a mixed corpus (bench/MailPipeline.CheckLoad), serves its DNS from a
# loopback Knot server, and times `mailpipeline check --batch` over it in its own process.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet publish -c Release src/MailPipeline.Cli -o "$out" -nologo -v:q -clp:ErrorsOnly >/dev/null
dotnet build -c Release bench/MailPipeline.CheckLoad -nologo -v:q -clp:ErrorsOnly >/dev/null
dotnet bench/MailPipeline.CheckLoad/bin/Release/net10.0/MailPipeline.CheckLoad.dll "$out/mailpipeline.dll" "${1:-2000}" "${2:-$(nproc)}" "${3:-2}"
