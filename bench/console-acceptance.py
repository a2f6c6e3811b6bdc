#!/usr/bin/env python3
"""Acceptance check `console`: bench-corpus mail through `mailpipeline serve`, then headless Chromium loads the HTTP
endpoint's `/` and the quarantined messages must be in the rendered page (their ids and From domains), server-rendered
on `/` itself (no clicks; the console has no scripts at all).

  BENCH_OUT=/tmp/bench-i23 DNS_PORT=5323 bench/console-acceptance.py [-n 300] [--configuration Debug|Release]

Uses the peer rig (/work/shared/bench: gen_corpus.py, dns.sh), Debian's chromium (test.sh installs it) and the
built CLI (dotnet build src/MailPipeline.Cli [-c Release]). The first page shows the 500 newest quarantined messages (Console:PageSize):
all of them must be there, and the page must say how many are in quarantine. Prints a summary and exits 0 on pass,
1 on fail. Every process it starts is stopped by its PID.
"""
import argparse
import concurrent.futures
import html
import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time

from benchrig import free_port, listening, rig_corpus_and_dns, rig_dns_stop, wait_until

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RIG = os.environ.get("BENCH_RIG", "/work/shared/bench")
OUT = os.environ.get("BENCH_OUT", "/tmp/mailpipeline-bench")
DNS_PORT = int(os.environ.get("DNS_PORT", "5353"))
PAGE = 500
started = []


def log(text):
    print("[console] " + text, flush=True)


def send(port, corpus, envelopes):
    def one(batch):
        sent = []
        with smtplib.SMTP("127.0.0.1", port, local_hostname="feeder.bench.test", timeout=120) as client:
            for e in batch:
                with open(os.path.join(corpus, e["file"]), "rb") as f:
                    try:
                        client.sendmail(e["mail_from"], e["rcpt_to"], f.read())
                        sent.append(e["id"])
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as refused:
                        log(f"{e['id']} refused by the edge: {refused}")
        return len(sent)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return sum(pool.map(one, [envelopes[i::4] for i in range(4)]))


def from_domain(document):
    dmarc = document.get("dmarc") or {}
    return dmarc.get("domain")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=300, help="corpus size (default 300)")
    parser.add_argument("--configuration", default="Debug", help="the CLI build to run (default Debug)")
    a = parser.parse_args()
    corpus = os.path.join(OUT, "corpus")
    envelopes = rig_corpus_and_dns(RIG, OUT, DNS_PORT, a.n, log)
    domains = sorted({r.split("@")[1] for e in envelopes for r in e["rcpt_to"]})
    work = tempfile.mkdtemp(prefix="mp-console-acceptance-")
    smtp, http = free_port(), free_port()
    cli = os.path.join(REPO, "src", "MailPipeline.Cli", "bin", a.configuration, "net10.0", "mailpipeline.dll")
    serve_log = os.path.join(work, "serve.log")
    args = ["dotnet", cli, "serve", "--data", os.path.join(work, "data"), "--smtp", f"127.0.0.1:{smtp}", "--http", f"127.0.0.1:{http}",
            "--resolver", f"127.0.0.1:{DNS_PORT}", "--hostname", "mx.inbound.test", "--dnsbl", "bl.test"]
    for d in domains:
        args += ["--accept-domain", d]
    serve = subprocess.Popen(args, stdout=open(serve_log, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started.append(serve)
    ok = False
    try:
        wait_until(lambda: listening(smtp) or serve.poll() is not None, 120, "serve to listen")
        if serve.poll() is not None:
            raise SystemExit("serve exited: see " + serve_log)
        t0 = time.time()
        sent = send(smtp, corpus, envelopes)
        log(f"sent {sent} of {len(envelopes)} messages in {time.time() - t0:.1f} s")
        data = os.path.join(work, "data")

        def routed():
            return sum(len([f for f in os.listdir(os.path.join(data, d)) if f.endswith(".eml")]) for d in ("deliver", "quarantine"))
        wait_until(lambda: routed() >= sent, 600, "every message to be routed")
        quarantined = []
        for name in os.listdir(os.path.join(data, "quarantine")):
            if name.endswith(".eml"):
                mid = name[:-4]
                with open(os.path.join(data, "quarantine", mid + ".json"), "rb") as f:
                    document = json.load(f)
                quarantined.append((document.get("receivedAt") or "", mid, from_domain(document)))
        quarantined.sort(reverse=True)
        log(f"{len(quarantined)} quarantined, {routed() - len(quarantined)} delivered")
        profile = tempfile.mkdtemp(prefix="mp-console-chromium-")
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        page = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                               "--dump-dom", f"http://127.0.0.1:{http}/"], capture_output=True, text=True, timeout=120).stdout
        shutil.rmtree(profile, ignore_errors=True)
        with open(os.path.join(work, "root.html"), "w") as f:
            f.write(page)
        text = html.unescape(page)
        first_page = quarantined[:PAGE]
        missing_ids = [mid for _, mid, _ in first_page if mid not in text]
        missing_domains = [d for _, _, d in first_page if d and d not in text]
        count = re.search(r"Quarantine <span[^>]*>([\d,]+) messages?", page)
        shown = int(count.group(1).replace(",", "")) if count else -1
        ok = bool(quarantined) and not missing_ids and not missing_domains and shown == len(quarantined) and "<script" not in page.lower()
        print(json.dumps({"check": "console", "pass": ok, "sent": sent, "quarantined": len(quarantined), "listed_on_root": len(first_page) - len(missing_ids),
                          "count_on_root": shown, "missing_ids": missing_ids[:5], "missing_domains": missing_domains[:5], "page": os.path.join(work, "root.html")}))
    finally:
        for p in started:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        rig_dns_stop(RIG, OUT, DNS_PORT)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
