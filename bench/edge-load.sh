#!/usr/bin/env bash
# Load and memory figures for the SMTP edge (bench/RESULTS.md, "## SMTP edge"). Run from the repo root:
#   bench/edge-load.sh [seconds-per-scenario]
# 1. the edge in its own process (local-disk spool in a temp folder) under the C# load client;
# 2. Postfix smtp-sink on loopback under the same client, as the ceiling (needs the postfix package; only
#    the smtp-sink binary is used, no Postfix daemon is started);
# 3. the edge's peak RSS (VmHWM) receiving one 50 MB message, and the managed bytes it allocates.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
seconds=${1:-10}
dotnet build -c Release bench/MailPipeline.EdgeLoad -nologo -v:q -clp:ErrorsOnly >/dev/null
out=$(mktemp -d)
dotnet publish -c Release src/MailPipeline.Edge -o "$out" -nologo -v:q -clp:ErrorsOnly >/dev/null
load=bench/MailPipeline.EdgeLoad/bin/Release/net10.0/MailPipeline.EdgeLoad.dll
spool=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
hport=$((port + 1))
Edge__HostName=mx.load.test Edge__ListenAddress=127.0.0.1 Edge__Port=$port Edge__HealthPort=$hport \
Edge__AcceptedDomains__0=load.test Edge__MaxSessions=10000 Edge__MaxSessionsPerIp=10000 \
Edge__MaxConnectionsPerIpPerMinute=1000000 Edge__MaxMessageLineLength=0 Spool__Path=$spool \
Logging__LogLevel__Default=Warning DOTNET_gcServer=0 dotnet "$out/mailpipeline-edge.dll" &
edge=$!
trap 'kill $edge 2>/dev/null || true; [ -n "${sink:-}" ] && kill $sink 2>/dev/null || true; rm -rf "$spool" "$out"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
echo "== edge memory, one 50 MB message (fresh process, before any load)"
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$edge/status)
dotnet $load memory --target 127.0.0.1:$port
awk -v b="$rss_before" '/VmHWM/ {printf "edge RSS before %d MB, peak %d MB (%.2fx of 50 MB above the start)\n", b/1024, $2/1024, ($2-b)/1024/50}' /proc/$edge/status
echo "== edge (own process, local-disk spool with fsync)"
dotnet $load load --target 127.0.0.1:$port --seconds "$seconds"
echo "== edge in-process allocation, one 50 MB message"
dotnet $load memory
if command -v smtp-sink >/dev/null || [ -x /usr/sbin/smtp-sink ]; then
  sinkport=$((port + 2))
  /usr/sbin/smtp-sink -u nobody 127.0.0.1:$sinkport 1000 &
  sink=$!
  sleep 1
  echo "== postfix smtp-sink (ceiling: accepts and discards, no disk)"
  dotnet $load load --target 127.0.0.1:$sinkport --seconds "$seconds"
fi
