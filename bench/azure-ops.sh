#!/usr/bin/env bash
# Service Bus operations and Blob transactions per message on the Azure path (bench/RESULTS.md, "## Azure operations
# per message"; docs/capacity.md builds on them). Run from anywhere:
#   bench/azure-ops.sh [messages=100]
# The whole flow runs in one process (bench/MailPipeline.AzureOps): the real edge (SMTP with XCLIENT, so each corpus
# message arrives from its envelope's client address) on the Blob + Service Bus adapters, Azurite (node_modules) and the
# AMQP test broker (tests/MailPipeline.TestBroker) underneath, every Service Bus-triggered function run as the Functions
# host runs it, delivery to a Postfix smtp-sink. Messages come from the peer rig's corpus (/work/shared/bench, its DNS
# zones served by Knot on DNS_PORT). Credits are counted at the broker as Service Bus Standard counts them
# (https://learn.microsoft.com/en-us/azure/service-bus-messaging/service-bus-throttling), Blob REST calls by a pipeline
# policy in the SDK clients (each is one billable transaction: https://learn.microsoft.com/en-us/azure/storage/blobs/storage-blob-pricing).
# Needs what ./test.sh installs (knot, postfix's smtp-sink, npm's azurite, python3).
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
rig=${RIG:-/work/shared/bench}
export BENCH_OUT=${BENCH_OUT:-/tmp/mailpipeline-bench-$(id -un)}
export DNS_PORT=${DNS_PORT:-5353}
n=${1:-100}
started_dns=0
cleanup() {
  if [ "$started_dns" = 1 ]; then (cd "$rig" && ./dns.sh stop >/dev/null) || true; fi
}
trap cleanup EXIT

[ -x "$repo/node_modules/.bin/azurite-blob" ] || (cd "$repo" && npm ci --no-audit --no-fund >&2)
corpus=$BENCH_OUT/corpus
if [ ! -s "$corpus/envelopes.jsonl" ] || [ "$(wc -l < "$corpus/envelopes.jsonl")" -lt "$n" ] ||
   ! ls "$BENCH_OUT"/dns/zones/*.zone >/dev/null 2>&1; then
  (cd "$rig" && /usr/bin/python3 gen_corpus.py -n "$n" >&2)
fi
if ! (cd "$rig" && ./dns.sh status >/dev/null 2>&1); then
  (cd "$rig" && ./dns.sh start >&2)
  started_dns=1
fi

dotnet build "$repo/bench/MailPipeline.AzureOps" -c Release -p:ServiceBusOffline=true -nologo -v:q -clp:ErrorsOnly >&2
dotnet "$repo/bench/MailPipeline.AzureOps/bin/Release/net10.0/MailPipeline.AzureOps.dll" "$corpus" "127.0.0.1:$DNS_PORT" "$n" bl.test
