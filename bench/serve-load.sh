#!/usr/bin/env bash
# End-to-end figures for `mailpipeline serve` (bench/RESULTS.md, "## serve (end to end)"). Run from the repo root:
#   bench/serve-load.sh [messages=2000] [connections=20]
# Needs knot (knotd/knotc) and python3-dkim (dkimsign), which ./test.sh installs.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
dotnet build -c Release src/MailPipeline.Cli -nologo -v:q -clp:ErrorsOnly >/dev/null
dotnet build -c Release bench/MailPipeline.ServeLoad -nologo -v:q -clp:ErrorsOnly >/dev/null
dotnet bench/MailPipeline.ServeLoad/bin/Release/net10.0/MailPipeline.ServeLoad.dll "${1:-2000}" "${2:-20}"
