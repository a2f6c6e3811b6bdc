#!/usr/bin/env bash
# Verdicts under DNS faults on the peer rig's corpus (bench/RESULTS.md, "## Verdicts under DNS faults").
#   BENCH_OUT=/tmp/bench-$USER DNS_PORT=5315 bench/verdict-dns-faults.sh [messages=600]
# Generates the corpus with the rig's gen_corpus.py (RIG=/work/shared/bench by default) unless $BENCH_OUT has one,
# serves its zones with the rig's dns.sh (Knot on 127.0.0.1:$DNS_PORT), puts the fault-injecting proxy
# (tests/MailPipeline.DnsFaultProxy) in front of it and runs `mailpipeline check --batch --json` (default
# configuration, --dnsbl bl.test) per scenario:
#   baseline            no fault: every check agrees with expected.jsonl (spf, dkim, dmarc, dnsbl)
#   iprev SERVFAIL      every PTR query SERVFAIL: each message gets the baseline's action at once
#   iprev timeout       every PTR query unanswered: the same, within the default per-query budget (on the first 100
#                       messages, 50 at once: each waits out its PTR query, 2 attempts x Dns:QueryTimeout)
#   non-aligned signer  the third-party signer's key (esp._domainkey.relay.test) SERVFAIL, for the messages the
#                       baseline delivers that pass DMARC through their own aligned signature: deliver at once
#   aligned signer      the key of example.com (p=reject) SERVFAIL, for its messages the baseline delivers that pass
#                       DMARC only through that signature: retry (the verdict waits for the DKIM stage)
# Prints a table and exits non-zero when a scenario does not hold. Stops what it started by PID.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
repo=$(pwd)
RIG=${RIG:-/work/shared/bench}
export BENCH_OUT=${BENCH_OUT:-/tmp/mailpipeline-bench-faults-$(id -un)}
export DNS_PORT=${DNS_PORT:-5315}
messages=${1:-600}
work=$(mktemp -d)
proxy_pid=
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
  "$RIG/dns.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -s "$BENCH_OUT/corpus/expected.jsonl" ] || [ "$(wc -l < "$BENCH_OUT/corpus/expected.jsonl")" -ne "$messages" ]; then
  /usr/bin/python3 "$RIG/gen_corpus.py" -n "$messages" >&2
fi
"$RIG/dns.sh" start >&2

dotnet publish -c Release src/MailPipeline.Cli -o "$work/cli" -nologo -v:q -clp:ErrorsOnly >/dev/null
dotnet publish -c Release tests/MailPipeline.DnsFaultProxy -o "$work/proxy" -nologo -v:q -clp:ErrorsOnly >/dev/null

rules="$work/rules.txt"
: > "$rules"
dotnet "$work/proxy/MailPipeline.DnsFaultProxy.dll" --upstream "127.0.0.1:$DNS_PORT" --rules-file "$rules" > "$work/proxy.out" 2> "$work/proxy.err" &
proxy_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/proxy.out" 2>/dev/null && break; sleep 0.1; done
resolver=$(sed -n 's/^listening on //p' "$work/proxy.out")
[ -n "$resolver" ] || { cat "$work/proxy.err" >&2; exit 1; }

set_rules() { # rule lines on stdin; waits until the proxy has reloaded them
  local before
  before=$(grep -c "rule(s)" "$work/proxy.err" || true)
  cat > "$rules.tmp" && mv "$rules.tmp" "$rules"
  for _ in $(seq 50); do [ "$(grep -c "rule(s)" "$work/proxy.err" || true)" -gt "$before" ] && return; sleep 0.1; done
  echo "the proxy did not reload its rules" >&2; exit 1
}

# check --batch input: the rig's envelopes with the CLI's field names; a subset by id when given.
batch() { # name [ids-file]
  /usr/bin/python3 - "$BENCH_OUT/corpus" "$work/$1.jsonl" "${2:-}" <<'PY'
import json, os, sys
corpus, target, ids = sys.argv[1], sys.argv[2], sys.argv[3]
keep = set(open(ids).read().split()) if ids else None
with open(os.path.join(corpus, "envelopes.jsonl")) as f, open(target, "w") as out:
    for line in f:
        e = json.loads(line)
        if keep is None or e["id"] in keep:
            out.write(json.dumps({"file": os.path.join(corpus, e["file"]), "ip": e["ip"], "helo": e["helo"],
                                  "mailFrom": e["mail_from"], "rcptTo": e["rcpt_to"], "id": e["id"]}) + "\n")
PY
}

run() { # name [parallel]: runs check --batch on $work/name.jsonl, writes $work/name.out, prints the wall time in seconds
  local start end
  start=$(date +%s.%N)
  dotnet "$work/cli/mailpipeline.dll" check --batch "$work/$1.jsonl" --resolver "$resolver" --dnsbl bl.test --parallel "${2:-$(nproc)}" > "$work/$1.out" 2> "$work/$1.err" || true
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.1f", $2 - $1 }'
}

# Baseline and the message sets each scenario uses.
batch all
set_rules < /dev/null
t_base=$(run all)
/usr/bin/python3 - "$BENCH_OUT/corpus" "$work" <<'PY'
import json, os, sys
corpus, work = sys.argv[1], sys.argv[2]
expected = {}
envelopes = {}
for line in open(os.path.join(corpus, "expected.jsonl")):
    e = json.loads(line); expected[e["id"]] = e
for line in open(os.path.join(corpus, "envelopes.jsonl")):
    e = json.loads(line); envelopes[e["id"]] = e
ids = [json.loads(l)["id"] for l in open(os.path.join(work, "all.jsonl"))]
reports = {}
for line in open(os.path.join(work, "all.out")):
    r = json.loads(line); reports[ids[r["line"] - 1]] = r
mismatch = []
for i, e in expected.items():
    r = reports[i]
    dkim = "none" if not r["dkim"] else ("pass" if any(s["result"] == "pass" for s in r["dkim"]) else "fail")
    listed = any(z["listed"] for z in r.get("reputation", []) if z["zone"] == "bl.test")
    got = {"spf": r["spf"]["result"], "dkim": dkim, "dmarc": r["dmarc"]["result"], "dnsbl": "listed" if listed else "clean"}
    for k, v in got.items():
        if v != e[k]:
            mismatch.append(f"{i} {k}: expected {e[k]}, got {v}")
actions = {i: r["action"] for i, r in reports.items()}
json.dump({"mismatch": mismatch, "actions": actions}, open(os.path.join(work, "baseline.json"), "w"))
def org(d): return ".".join(d.split(".")[-2:])
# non-aligned signer: the third party relay.test signed too, and the author's own aligned signature passes
nonaligned = [i for i, e in expected.items()
              if any(d == "relay.test" for d, _ in e["dkim_sigs"]) and org(e["from_domain"]) != "relay.test"
              and any(org(d) == org(e["from_domain"]) and res == "pass" for d, res in e["dkim_sigs"]) and e["dmarc"] == "pass"
              and actions[i] == "deliver"]
# aligned signer under an enforcing policy: example.com (p=reject, adkim=s, aspf=s) passing only through DKIM
aligned = [i for i, e in expected.items()
           if e["from_domain"] == "example.com" and e["dmarc"] == "pass" and e["spf_domain"] != "example.com"
           and any(d == "example.com" and res == "pass" for d, res in e["dkim_sigs"]) and actions[i] == "deliver"]
open(os.path.join(work, "nonaligned.ids"), "w").write("\n".join(nonaligned))
open(os.path.join(work, "timeout.ids"), "w").write("\n".join(ids[:100]))
open(os.path.join(work, "aligned.ids"), "w").write("\n".join(aligned))
PY
batch nonaligned "$work/nonaligned.ids"
batch aligned "$work/aligned.ids"
batch timeout "$work/timeout.ids"

set_rules <<'EOF'
servfail PTR *.in-addr.arpa
servfail PTR *.ip6.arpa
EOF
t_servfail=$(run all); cp "$work/all.out" "$work/iprev-servfail.out"

set_rules <<'EOF'
drop PTR *.in-addr.arpa
drop PTR *.ip6.arpa
EOF
t_timeout=$(run timeout 50)

set_rules <<'EOF'
servfail TXT esp._domainkey.relay.test
EOF
t_nonaligned=$(run nonaligned)

set_rules <<'EOF'
servfail TXT s2048._domainkey.example.com
EOF
t_aligned=$(run aligned)

/usr/bin/python3 - "$work" "$t_base" "$t_servfail" "$t_timeout" "$t_nonaligned" "$t_aligned" "$(nproc)" <<'PY'
import collections, json, os, sys
work = sys.argv[1]
times = dict(zip(["baseline", "iprev SERVFAIL", "iprev timeout", "non-aligned signer SERVFAIL", "aligned signer SERVFAIL"], sys.argv[2:7]))
parallel = sys.argv[7]
base = json.load(open(os.path.join(work, "baseline.json")))
def load(name, out=None):
    ids = [json.loads(l)["id"] for l in open(os.path.join(work, name + ".jsonl"))]
    rows = {}
    for line in open(os.path.join(work, (out or name) + ".out")):
        r = json.loads(line); rows[ids[r["line"] - 1]] = r
    return rows
failures = []
table = []
def scenario(label, rows, expect, result_of):
    counts = collections.Counter(r["action"] for r in rows.values())
    attempts = collections.Counter(r.get("attempt") for r in rows.values())
    bad = [i for i, r in rows.items() if r["action"] != expect(i) or r.get("attempt") != 1]
    recorded = collections.Counter(result_of(r) for r in rows.values())
    table.append((label, len(rows), dict(counts), dict(recorded), times[label]))
    if not rows or bad:
        failures.append(f"{label}: {len(bad)} of {len(rows)} not as expected, e.g. {bad[:5]}")
baseline = load("all")
if base["mismatch"]:
    failures.append(f"baseline: {len(base['mismatch'])} check results differ from expected.jsonl, e.g. {base['mismatch'][:5]}")
table.append(("baseline", len(baseline), dict(collections.Counter(r["action"] for r in baseline.values())), {"checks = expected.jsonl": len(baseline) - len({m.split()[0] for m in base["mismatch"]})}, times["baseline"]))
scenario("iprev SERVFAIL", load("all", "iprev-servfail"), lambda i: base["actions"][i], lambda r: "iprev=" + r["iprev"]["result"])
scenario("iprev timeout", load("timeout"), lambda i: base["actions"][i], lambda r: "iprev=" + r["iprev"]["result"])
dkim_of = lambda d: lambda r: ",".join(f"{s['domain']}={s['result']}" for s in r["dkim"] if s["domain"] == d)
scenario("non-aligned signer SERVFAIL", load("nonaligned"), lambda i: "deliver", dkim_of("relay.test"))
scenario("aligned signer SERVFAIL", load("aligned"), lambda i: "retry", lambda r: "retry=" + ",".join(r.get("retry") or []))
print(f"| scenario | messages | actions | recorded | wall s (check --batch; --parallel {parallel}, the timeout run 50) |")
print("|---|---|---|---|---|")
for label, n, counts, recorded, t in table:
    print(f"| {label} | {n} | {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))} | {', '.join(f'{k}: {v}' for k, v in sorted(recorded.items()))} | {t} |")
if failures:
    print("\nFAILED:\n" + "\n".join(failures))
    sys.exit(1)
print("\nall scenarios hold: an iprev or non-aligned-signer fault changes no action and costs no retry; the aligned signer's under p=reject waits (retry).")
PY
