#!/usr/bin/env bash
# End-to-end figures for `mailpipeline serve` (bench/RESULTS.md, "## serve (end to end)"). Run from the repo root:
#   bench/serve-load.sh [messages=2000] [connections=20] [mailkit|smtp-source] [size=1024] [wait-seconds=0]
# smtp-source (Postfix) drives serve like the edge anchors do: bench/serve-load.sh 20000 100 smtp-source 1024 for
# the rate, bench/serve-load.sh 9000 300 smtp-source 1024 1 for a steady ~300 msgs/s (30 s, 300 sessions x 1/s).
# Needs knot (knotd/knotc) and python3-dkim (dkimsign), which ./test.sh installs.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
dotnet build -c Release src/MailPipeline.Cli -nologo -v:q -clp:ErrorsOnly >/dev/null
dotnet build -c Release bench/MailPipeline.ServeLoad -nologo -v:q -clp:ErrorsOnly >/dev/null
dotnet bench/MailPipeline.ServeLoad/bin/Release/net10.0/MailPipeline.ServeLoad.dll "${1:-2000}" "${2:-20}" "${3:-mailkit}" "${4:-1024}" "${5:-0}"
