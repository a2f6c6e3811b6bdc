#!/usr/bin/python3
"""The `dmarc-reports` acceptance check (issue 24), on the peer rig's corpus and DNS (/work/shared/bench).

The bench corpus is sent through `mailpipeline serve` (XCLIENT from 127.0.0.1 names each message's client IP and HELO,
so SPF and the reports see the corpus' sources); serve is stopped with SIGINT (its last counters are flushed), then

  mailpipeline dmarc-report build --data DIR --from TODAY --to TOMORROW --out OUT

runs (TODAY/TOMORROW as yyyy-MM-dd UTC dates; --to is inclusive, so the exclusive reading gives the same reports).
Passes when OUT holds exactly one gzipped report per policy domain that publishes a mailto: rua in the bench DNS and
received mail, each valid against the RFC 9990 schema (xmllint --schema with tests/MailPipeline.TestSupport/Dmarc/
rfc9990.xsd), in the urn:ietf:params:xml:ns:dmarc-2.0 namespace, named receiver!policy-domain!begin!end.xml.gz, whose
record counts sum to the messages serve evaluated for that domain: the routed verdicts with dmarc=pass or fail whose
From domain's DMARC policy (RFC 9989 discovery, done here with dnspython against the rig's Knot) is that domain's.

usage (from the repository root):
  BENCH_OUT=/tmp/bench-i24 DNS_PORT=5324 bench/dmarc-reports.py [-n 2000] [--configuration Release|Debug]
Prints a summary and exits 0 on pass, 1 on fail. Every process it starts is stopped by its PID.
"""
import argparse
import atexit
import concurrent.futures
import datetime
import glob
import gzip
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import dns.resolver

from benchrig import free_port, listening, rig_corpus_and_dns, rig_dns_stop, wait_until

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RIG = os.environ.get("BENCH_RIG", "/work/shared/bench")
OUT = os.environ.get("BENCH_OUT", "/tmp/mailpipeline-bench")
DNS_PORT = int(os.environ.get("DNS_PORT", "5353"))
RECEIVER = "mx.reports.test"
NS = "{urn:ietf:params:xml:ns:dmarc-2.0}"
SCHEMA = os.path.join(REPO, "tests", "MailPipeline.TestSupport", "Dmarc", "rfc9990.xsd")


def log(text):
    print("[dmarc-reports] " + text, flush=True)


def send(port, corpus, envelopes):
    """One session per message: XCLIENT ADDR/HELO names the corpus client, then the transaction."""
    def one(batch):
        sent = 0
        for e in batch:
            with smtplib.SMTP("127.0.0.1", port, local_hostname="feeder.bench.test", timeout=120) as client:
                code, reply = client.docmd("XCLIENT", f"ADDR={e['ip']} HELO={e['helo']}")
                if code != 220:
                    raise SystemExit(f"XCLIENT refused: {code} {reply!r}")
                client.ehlo_resp = None
                client.ehlo(e["helo"])
                with open(os.path.join(corpus, e["file"]), "rb") as f:
                    try:
                        client.sendmail(e["mail_from"], e["rcpt_to"], f.read())
                        sent += 1
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as refused:
                        log(f"{e['id']} refused by the edge: {refused}")
        return sent

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return sum(pool.map(one, [envelopes[i::4] for i in range(4)]))


def dmarc_record(resolver, name):
    try:
        answer = resolver.resolve("_dmarc." + name, "TXT", lifetime=5)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    records = [b"".join(r.strings).decode() for r in answer]
    records = [r for r in records if re.match(r"^v\s*=\s*DMARC1\s*(;|$)", r)]
    return records[0] if len(records) == 1 else None


def policy_domain(resolver, from_domain, cache):
    """RFC 9989 §4.10: the record at the Author Domain, else at the Organizational Domain (the tree walk's topmost
    record below the TLD; none of the rig's records sets psd)."""
    if from_domain not in cache:
        found = None
        if dmarc_record(resolver, from_domain):
            found = from_domain
        else:
            labels = from_domain.split(".")
            for i in range(len(labels) - 2, 0, -1):  # shortest first: the topmost record is the organization's
                name = ".".join(labels[i:])
                if len(labels[i:]) >= 2 and dmarc_record(resolver, name):
                    found = name
                    break
        cache[from_domain] = found
    return cache[from_domain]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument("--configuration", default="Release", help="build of the CLI to run: Release (built here) or Debug (as ./test.sh left it)")
    a = parser.parse_args()
    if a.configuration == "Release":
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(REPO, "src", "MailPipeline.Cli"), "-nologo", "-v:q", "-clp:ErrorsOnly"], check=True)
    cli = os.path.join(REPO, "src", "MailPipeline.Cli", "bin", a.configuration, "net10.0", "mailpipeline.dll")

    corpus = os.path.join(OUT, "corpus")
    envelopes = rig_corpus_and_dns(RIG, OUT, DNS_PORT, a.n, log)
    atexit.register(lambda: rig_dns_stop(RIG, OUT, DNS_PORT))

    work = os.path.join(OUT, "dmarc-reports")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data, reports = os.path.join(work, "data"), os.path.join(work, "reports")
    config = os.path.join(work, "mailpipeline.json")
    with open(config, "w") as f:
        json.dump({"Edge": {"HostName": RECEIVER, "ReverseDnsLookup": False, "MaxConnectionsPerIpPerMinute": 1000000, "MaxSessionsPerIp": 1000},
                   "Reputation": {"SkipPrivateAddresses": False},
                   "DmarcReporting": {"OrgName": "MailPipeline bench", "Email": "dmarc-reports@" + RECEIVER},
                   "Logging": {"LogLevel": {"Default": "Warning"}}}, f)
    smtp, http = free_port(), free_port()
    serve_log = os.path.join(work, "serve.log")
    serve = subprocess.Popen(["dotnet", cli, "serve", "--data", data, "--smtp", f"127.0.0.1:{smtp}", "--http", f"127.0.0.1:{http}",
                              "--resolver", f"127.0.0.1:{DNS_PORT}", "--config", config, "--xclient-host", "127.0.0.1/32",
                              "--accept-domain", "inbound.test", "--accept-domain", "example.net", "--accept-domain", "example.com", "--accept-domain", "example.org"],
                             stdout=open(serve_log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: listening(smtp) or serve.poll() is not None, 120, "serve to listen")
        if serve.poll() is not None:
            raise SystemExit("serve exited: see " + serve_log)
        t0 = time.time()
        accepted = send(smtp, corpus, envelopes)
        routed = lambda: glob.glob(os.path.join(data, "deliver", "*.json")) + glob.glob(os.path.join(data, "quarantine", "*.json"))
        wait_until(lambda: len(routed()) >= accepted, 900, "every message to be routed")
        log(f"{accepted} messages accepted and routed in {time.time() - t0:.1f} s; stopping serve (SIGINT)")
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(90)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()

    today = datetime.datetime.now(datetime.timezone.utc).date()
    build = subprocess.run(["dotnet", cli, "dmarc-report", "build", "--data", data, "--config", config,
                            "--from", today.isoformat(), "--to", (today + datetime.timedelta(days=1)).isoformat(), "--out", reports],
                           capture_output=True, text=True)
    print(build.stdout + build.stderr, end="")

    # What serve evaluated, per policy domain (independently of our code: the DNS walk is done here).
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = ["127.0.0.1"], DNS_PORT
    cache, evaluated, with_rua = {}, {}, {}
    for path in routed():
        verdict = json.load(open(path))
        d = verdict.get("dmarc") or {}
        if d.get("result") not in ("pass", "fail") or not d.get("domain"):
            continue
        pd = policy_domain(resolver, d["domain"].lower(), cache)
        if pd:
            evaluated[pd] = evaluated.get(pd, 0) + 1
    for pd in evaluated:
        record = dmarc_record(resolver, pd) or ""
        with_rua[pd] = bool(re.search(r"(^|;)\s*rua\s*=\s*mailto:", record, re.IGNORECASE))

    problems = []
    if build.returncode != 0:
        problems.append(f"dmarc-report build exited {build.returncode}")
    files = sorted(glob.glob(os.path.join(reports, "*"))) if os.path.isdir(reports) else []
    by_domain = {}
    for path in files:
        name = os.path.basename(path)
        m = re.fullmatch(re.escape(RECEIVER) + r"!([a-z0-9.-]+)!(\d+)!(\d+)\.xml\.gz", name)
        if not m:
            problems.append(f"{name}: not receiver!policy-domain!begin!end.xml.gz")
            continue
        raw = open(path, "rb").read()
        if raw[:2] != b"\x1f\x8b":
            problems.append(f"{name}: not gzip")
            continue
        xml_path = os.path.join(work, name[:-3])
        open(xml_path, "wb").write(gzip.decompress(raw))
        lint = subprocess.run(["xmllint", "--noout", "--schema", SCHEMA, xml_path], capture_output=True, text=True)
        if lint.returncode != 0:
            problems.append(f"{name}: not valid against RFC 9990's schema: {lint.stderr.strip()}")
        root = ET.parse(xml_path).getroot()
        if root.tag != NS + "feedback":
            problems.append(f"{name}: root {root.tag}, not {NS}feedback")
        domain = root.findtext(f"{NS}policy_published/{NS}domain")
        if domain != m.group(1):
            problems.append(f"{name}: policy_published/domain {domain}")
        count = sum(int(r.findtext(f"{NS}row/{NS}count")) for r in root.findall(f"{NS}record"))
        by_domain[domain] = by_domain.get(domain, 0) + count
    expected = {pd: n for pd, n in evaluated.items() if with_rua[pd]}
    if set(by_domain) != set(expected):
        problems.append(f"reports for {sorted(by_domain)}, expected one per rua domain with mail: {sorted(expected)}")
    for pd, n in sorted(expected.items()):
        if by_domain.get(pd) != n:
            problems.append(f"{pd}: record counts sum to {by_domain.get(pd)}, serve evaluated {n}")
    if len(files) != len(expected):
        problems.append(f"{len(files)} files for {len(expected)} policy domains")

    print(json.dumps({"corpus": len(envelopes), "accepted": accepted, "evaluated_per_policy_domain": evaluated,
                      "rua_domains": sorted(expected), "report_counts": by_domain, "files": [os.path.basename(f) for f in files],
                      "problems": problems}, indent=1))
    print("PASS dmarc-reports" if not problems else "FAIL dmarc-reports")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
