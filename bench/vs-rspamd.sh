#!/usr/bin/env bash
# `mailpipeline check --batch` against rspamd on the shared peer rig (bench/RESULTS.md, "## check vs rspamd"): the rig's
# corpus, its Knot DNS and its rspamd peer, measured in one run, runs interleaved, ratios taken per run.
#
#   bench/vs-rspamd.sh [messages=2000] [runs=3]
#
# Environment (all optional):
#   RIG           the peer rig                          (default /work/shared/bench)
#   BENCH_OUT     the rig's output folder               (default /tmp/mailpipeline-bench-$USER); corpus generated if missing
#   DNS_PORT      Knot's port                           (default 5353); started here if it is not running, stopped after
#   RSPAMD_PORT   rspamd's HTTP port                    (default 11333)
#   MAILPIPELINE  a published mailpipeline to measure   (default: published here with the README's command)
#
# CPU figures are user+sys seconds. Ours: the whole process, start-up, JIT and reading the files included. rspamd: as the
# rig reports it (its main process and workers plus the rig's HTTP client, which reads nothing: the messages are in memory
# before its clock starts), and apart, rspamd's own processes only ("server"). Knot's CPU is counted for neither.
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
rig=${RIG:-/work/shared/bench}
export BENCH_OUT=${BENCH_OUT:-/tmp/mailpipeline-bench-$(id -un)}
export DNS_PORT=${DNS_PORT:-5353}
rspamd_port=${RSPAMD_PORT:-11333}
n=${1:-2000}
runs=${2:-3}
work=$(mktemp -d)
started_dns=0
cleanup() {
  if [ "$started_dns" = 1 ]; then (cd "$rig" && ./dns.sh stop >/dev/null) || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The build operators run (README "Install"): self-contained, ReadyToRun composite.
mp=${MAILPIPELINE:-}
if [ -z "$mp" ]; then
  echo "publishing mailpipeline (README: dotnet publish src/MailPipeline.Cli -p:PublishProfile=linux-x64) ..." >&2
  dotnet publish "$repo/src/MailPipeline.Cli" -p:PublishProfile=linux-x64 -p:ServiceBusOffline=true \
    -o "$work/mailpipeline" -nologo -v:q -clp:ErrorsOnly >&2
  mp=$work/mailpipeline/mailpipeline
fi

# 2. The rig's corpus and DNS.
corpus=$BENCH_OUT/corpus
if [ ! -s "$corpus/envelopes.jsonl" ] || [ "$(wc -l < "$corpus/envelopes.jsonl")" -lt "$n" ] ||
   ! ls "$BENCH_OUT"/dns/zones/*.zone >/dev/null 2>&1; then
  (cd "$rig" && /usr/bin/python3 gen_corpus.py -n "$n" >&2)
fi
if ! (cd "$rig" && ./dns.sh status >/dev/null 2>&1); then
  (cd "$rig" && ./dns.sh start >&2)
  started_dns=1
fi

# envelopes.jsonl -> check --batch's shape ({"file","ip","helo","mailFrom","rcptTo"}), first n lines.
/usr/bin/python3 - "$corpus" "$n" <<'PY'
import json, sys
corpus, n = sys.argv[1], int(sys.argv[2])
with open(f"{corpus}/envelopes.jsonl") as f, open(f"{corpus}/batch-{n}.jsonl", "w") as g:
    for i, line in enumerate(f):
        if i == n:
            break
        e = json.loads(line)
        g.write(json.dumps({"file": e["file"], "ip": e["ip"], "helo": e["helo"], "mailFrom": e["mail_from"], "rcptTo": e["rcpt_to"]}) + "\n")
PY

# 3. The rig's rspamd peer, pointed at this DNS port and its own HTTP port (the rig's copy has 5353 and 11333 built in).
mkdir -p "$work/peers"
cp "$rig"/peers/*.py "$work/peers/"
sed -i "s/127\.0\.0\.1:5353/127.0.0.1:$DNS_PORT/g; s/11333/$rspamd_port/g" "$work/peers/rspamd_peer.py"
sed -i "s/DNS_ADDR, DNS_PORT = \"127.0.0.1\", 5353/DNS_ADDR, DNS_PORT = \"127.0.0.1\", $DNS_PORT/" "$work/peers/common.py"

results=$work/runs.jsonl
for run in $(seq "$runs"); do
  echo "run $run/$runs: rspamd ..." >&2
  before=$(wc -l < "$BENCH_OUT/results/throughput.jsonl" 2>/dev/null || echo 0)
  /usr/bin/python3 "$work/peers/rspamd_peer.py" --feed http -n "$n" >&2
  tail -n +"$((before + 1))" "$BENCH_OUT/results/throughput.jsonl" | grep '"peer": "rspamd-http"' | tail -1 \
    | sed "s/^{/{\"run\": $run, /" >> "$results"

  echo "run $run/$runs: mailpipeline check --batch ..." >&2
  /usr/bin/time -o "$work/time" -f "%e %U %S" \
    "$mp" check --batch "$corpus/batch-$n.jsonl" --resolver "127.0.0.1:$DNS_PORT" --dnsbl bl.test > "$work/out.jsonl" 2> "$work/err"
  read -r wall user sys < "$work/time"
  echo "{\"run\": $run, \"peer\": \"mailpipeline-check-batch\", \"n\": $n, \"wall_s\": $wall, \"cpu_s\": $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')}" >> "$results"
done

# 4. Correctness against the rig's expected verdicts, then the table.
/usr/bin/python3 - "$results" "$corpus/expected.jsonl" "$work/out.jsonl" "$n" "$(uptime)" <<'PY'
import collections, json, statistics, sys, time
results, expected_file, ours_file, n, load = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
expected = {}
for line in open(expected_file):
    e = json.loads(line)
    expected[e["id"]] = e
checked, wrong = 0, collections.Counter()
for line in open(ours_file):
    o = json.loads(line)
    e = expected[o["file"].rsplit(".", 1)[0]]
    sigs = [[d["domain"], "pass" if d["result"] == "pass" else "fail"] for d in o["dkim"]]
    results_ = [d["result"] for d in o["dkim"]]
    dkim = "none" if not results_ else "pass" if "pass" in results_ else "temperror" if "temperror" in results_ else "fail"
    got = {"spf": o["spf"]["result"], "dkim": dkim, "dkim_sigs": sigs, "dmarc": o["dmarc"]["result"],
           "dnsbl": "listed" if any(z["listed"] for z in o["reputation"]) else "clean"}
    checked += 1
    for k, v in got.items():
        if e.get(k) != v:
            wrong[k] += 1

runs = collections.defaultdict(dict)
for line in open(results):
    r = json.loads(line)
    runs[r["run"]][r["peer"]] = r
rows = []
for run, peers in sorted(runs.items()):
    rs, mp = peers.get("rspamd-http"), peers.get("mailpipeline-check-batch")
    if not rs or not mp:
        continue
    rows.append({
        "run": run,
        "rspamd_msgs_s": n / rs["wall_s"], "rspamd_cpu_s": rs["cpu_s"], "rspamd_msgs_cpu_s": n / rs["cpu_s"],
        "rspamd_msgs_server_cpu_s": n / rs["server_cpu_s"],
        "mp_msgs_s": n / mp["wall_s"], "mp_cpu_s": mp["cpu_s"], "mp_msgs_cpu_s": n / mp["cpu_s"],
    })
    rows[-1]["ratio_msgs_s"] = rows[-1]["mp_msgs_s"] / rows[-1]["rspamd_msgs_s"]
    rows[-1]["ratio_msgs_cpu_s"] = rows[-1]["mp_msgs_cpu_s"] / rows[-1]["rspamd_msgs_cpu_s"]
    rows[-1]["ratio_msgs_server_cpu_s"] = rows[-1]["mp_msgs_cpu_s"] / rows[-1]["rspamd_msgs_server_cpu_s"]

print(f"\n{n} messages, {len(rows)} run(s), {time.strftime('%Y-%m-%d %H:%M %Z')}; load:{load.split('load average:')[-1]}")
print("| run | rspamd msgs/s | rspamd CPU s | rspamd msgs/CPU-s (server only) | check --batch msgs/s | check --batch CPU s | check --batch msgs/CPU-s | msgs/s ratio | msgs/CPU-s ratio (vs server only) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['run']} | {r['rspamd_msgs_s']:.0f} | {r['rspamd_cpu_s']:.2f} | {r['rspamd_msgs_cpu_s']:.0f} ({r['rspamd_msgs_server_cpu_s']:.0f}) | {r['mp_msgs_s']:.0f} | "
          f"{r['mp_cpu_s']:.2f} | {r['mp_msgs_cpu_s']:.0f} | {r['ratio_msgs_s']:.1f}x | {r['ratio_msgs_cpu_s']:.1f}x ({r['ratio_msgs_server_cpu_s']:.1f}x) |")
if rows:
    med = lambda k: statistics.median(r[k] for r in rows)
    print(f"| median | {med('rspamd_msgs_s'):.0f} | {med('rspamd_cpu_s'):.2f} | {med('rspamd_msgs_cpu_s'):.0f} ({med('rspamd_msgs_server_cpu_s'):.0f}) | {med('mp_msgs_s'):.0f} | "
          f"{med('mp_cpu_s'):.2f} | {med('mp_msgs_cpu_s'):.0f} | {med('ratio_msgs_s'):.1f}x | {med('ratio_msgs_cpu_s'):.1f}x ({med('ratio_msgs_server_cpu_s'):.1f}x) |")
agree = ", ".join(f"{k} {100 * (checked - wrong[k]) / checked:.1f} %" for k in ("spf", "dkim", "dkim_sigs", "dmarc", "dnsbl"))
print(f"\ncheck --batch against the rig's expected verdicts ({checked} messages, last run): {agree}")
sys.exit(0 if checked == n and not wrong else 1)
PY
