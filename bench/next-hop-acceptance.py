#!/usr/bin/python3
"""The `next-hop` acceptance check (issue 16), on the peer rig's corpus and DNS (/work/shared/bench).

  serve --next-hop smtp://127.0.0.1:PORT --arc-domain inbound.test --arc-selector arc --arc-key KEY.pem

with a real SMTP server as the next hop (Debian's aiosmtpd, tests/MailPipeline.Delivery.Tests/TestData/delivery/
nexthop.py). The first half of the corpus is sent with the next hop up; then the next hop is stopped, the second
half is sent (and, with --kill-serve, serve is killed with SIGKILL and restarted on the same data), the next hop
stays down for --outage seconds and comes back. Passes when every message whose verdict is deliver arrived exactly
once, each with our Authentication-Results and an ARC set dkimpy verifies as cv=pass (keys from the rig's Knot,
our arc._domainkey.inbound.test added to its zones), and nothing is missing (deliver + quarantine = accepted).

usage (from the repository root, after ./test.sh or a build of src/MailPipeline.Cli):
  BENCH_OUT=/tmp/bench-i16 DNS_PORT=5316 bench/next-hop-acceptance.py [-n 2000] [--outage 45] [--kill-serve]
Prints a summary and exits 0 on pass, 1 on fail. Every process it starts is stopped by its PID.
"""
import argparse
import base64
import concurrent.futures
import email.parser
import email.policy
import glob
import json
import os
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import time

import dkim
import dns.resolver

from benchrig import free_port, listening, wait_until

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RIG = os.environ.get("BENCH_RIG", "/work/shared/bench")
OUT = os.environ.get("BENCH_OUT", "/tmp/mailpipeline-bench")
DNS_PORT = int(os.environ.get("DNS_PORT", "5353"))
AUTHSERV_ID = "mx.inbound.test"
started = []


def log(text):
    print("[next-hop] " + text, flush=True)


def start(args, output):
    process = subprocess.Popen(args, stdout=open(output, "ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started.append(process)
    return process


def stop(process, sig=signal.SIGTERM):
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prepare_rig(n, key_path):
    corpus = os.path.join(OUT, "corpus")
    if not os.path.exists(os.path.join(corpus, "envelopes.jsonl")) or sum(1 for _ in open(os.path.join(corpus, "envelopes.jsonl"))) != n:
        log(f"generating a corpus of {n} messages in {corpus}")
        subprocess.run(["/usr/bin/python3", os.path.join(RIG, "gen_corpus.py"), "-n", str(n), "--out", OUT], check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(key_path):
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key_path], check=True, stderr=subprocess.DEVNULL)
    der = subprocess.run(["openssl", "pkey", "-in", key_path, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    p = base64.b64encode(der).decode()
    chunks = " ".join(f'"{p[i:i + 200]}"' for i in range(0, len(p), 200))
    zone = os.path.join(OUT, "dns", "zones", "inbound.test.zone")
    with open(zone, "w") as f:
        f.write("$ORIGIN inbound.test.\n$TTL 300\n@ IN SOA ns.inbound.test. hostmaster.inbound.test. 2024010101 3600 600 86400 300\n"
                "@ IN NS ns.inbound.test.\nns IN A 127.0.0.1\n"
                f'arc._domainkey IN TXT ( "v=DKIM1; k=rsa; p=" {chunks} )\n')
    env = dict(os.environ, BENCH_OUT=OUT, DNS_PORT=str(DNS_PORT))
    subprocess.run([os.path.join(RIG, "dns.sh"), "start"], check=True, env=env)
    return corpus


CONFIGURATION = "Release"


def start_serve(data, smtp, http, hop_port, key_path, config, output):
    cli = os.path.join(REPO, "src", "MailPipeline.Cli", "bin", CONFIGURATION, "net10.0", "mailpipeline.dll")
    process = start(["dotnet", cli, "serve", "--data", data, "--smtp", f"127.0.0.1:{smtp}", "--http", f"127.0.0.1:{http}",
                     "--resolver", f"127.0.0.1:{DNS_PORT}", "--config", config,
                     "--accept-domain", "inbound.test", "--accept-domain", "example.net",
                     "--next-hop", f"smtp://127.0.0.1:{hop_port}",
                     "--arc-domain", "inbound.test", "--arc-selector", "arc", "--arc-key", key_path], output)
    wait_until(lambda: listening(smtp) or process.poll() is not None, 120, "serve to listen")
    if process.poll() is not None:
        raise SystemExit("serve exited: see " + output)
    return process


def start_next_hop(port, folder, output):
    process = start(["/usr/bin/python3", os.path.join(REPO, "tests", "MailPipeline.Delivery.Tests", "TestData", "delivery", "nexthop.py"),
                     "--out", folder, "--port", str(port)], output)
    wait_until(lambda: listening(port), 30, "the next hop to listen")
    return process


def send(smtp_port, corpus, envelopes):
    def one(batch):
        sent = 0
        with smtplib.SMTP("127.0.0.1", smtp_port, local_hostname="feeder.bench.test", timeout=120) as client:
            for e in batch:
                with open(os.path.join(corpus, e["file"]), "rb") as f:
                    try:
                        client.sendmail(e["mail_from"], e["rcpt_to"], f.read())
                        sent += 1
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as refused:
                        log(f"{e['id']} refused by the edge: {refused}")
        return sent

    batches = [envelopes[i::4] for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return sum(pool.map(one, batches))


def message_id(raw):
    match = re.search(rb"^Message-ID:\s*(<[^>\r\n]*>)", raw, re.IGNORECASE | re.MULTILINE)
    return match.group(1).decode() if match else None


def dkimpy_arc(raw, resolver):
    def get_txt(name, timeout=5):
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
        except Exception:  # NXDOMAIN, no answer: dkimpy expects None
            return None
        return b"".join(b"".join(r.strings) for r in answer)

    cv, _, comment = dkim.arc_verify(raw, dnsfunc=get_txt)
    return (cv.decode() if cv else "none"), comment


def top_authentication_results(raw):
    headers = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
    values = headers.get_all("Authentication-Results") or []
    return values[0].strip() if values else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument("--outage", type=int, default=45, help="seconds the next hop stays down after the second half is sent")
    parser.add_argument("--kill-serve", action="store_true", help="also SIGKILL serve during the outage and restart it")
    parser.add_argument("--configuration", default="Release", help="build of the CLI to run: Release (built here) or Debug (as ./test.sh left it)")
    a = parser.parse_args()
    global CONFIGURATION
    CONFIGURATION = a.configuration
    if a.configuration == "Release":
        subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(REPO, "src", "MailPipeline.Cli"), "-nologo", "-v:q", "-clp:ErrorsOnly"], check=True)

    work = os.path.join(OUT, "next-hop")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    key_path = os.path.join(OUT, "arc-inbound.test.pem")
    corpus = prepare_rig(a.n, key_path)
    envelopes = [json.loads(line) for line in open(os.path.join(corpus, "envelopes.jsonl"))]
    data, sink = os.path.join(work, "data"), os.path.join(work, "next-hop")
    os.makedirs(sink)
    config = os.path.join(work, "mailpipeline.json")
    with open(config, "w") as f:
        json.dump({"Edge": {"HostName": AUTHSERV_ID, "ReverseDnsLookup": False, "MaxConnectionsPerIpPerMinute": 100000},
                   "AuthenticationResults": {"AuthServId": AUTHSERV_ID},
                   "Logging": {"LogLevel": {"Default": "Warning"}}}, f)
    smtp, http, hop = free_port(), free_port(), free_port()
    serve_log, hop_log = os.path.join(work, "serve.log"), os.path.join(work, "next-hop.log")
    try:
        next_hop = start_next_hop(hop, sink, hop_log)
        serve = start_serve(data, smtp, http, hop, key_path, config, serve_log)
        half = len(envelopes) // 2
        t0 = time.time()
        log(f"sending {half} messages with the next hop up")
        accepted = send(smtp, corpus, envelopes[:half])
        log(f"stopping the next hop; sending {len(envelopes) - half} more")
        stop(next_hop)
        accepted += send(smtp, corpus, envelopes[half:])
        wait_until(lambda: len(glob.glob(os.path.join(data, "deliver", "*.eml"))) + len(glob.glob(os.path.join(data, "quarantine", "*.eml"))) >= accepted, 600, "every message to be routed")
        if a.kill_serve:
            log("SIGKILL serve during the outage, restart it on the same data")
            stop(serve, signal.SIGKILL)
            serve = start_serve(data, smtp, http, hop, key_path, config, serve_log)
        log(f"next hop down for {a.outage} s")
        time.sleep(a.outage)
        arrived_before_back = len(glob.glob(os.path.join(sink, "*.eml")))
        next_hop = start_next_hop(hop, sink, hop_log)
        back = time.time()
        deliver = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(data, "deliver", "*.eml")))
        quarantine = glob.glob(os.path.join(data, "quarantine", "*.eml"))
        delivered_state = lambda: sum(os.path.exists(os.path.join(data, "delivery", "delivered", i + ".json")) for i in deliver)
        wait_until(lambda: delivered_state() == len(deliver), 900, "every deliver-verdict message to be delivered")
        caught_up = time.time() - back
        time.sleep(3)  # a second copy of anything would arrive now

        # assert
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers, resolver.port = ["127.0.0.1"], DNS_PORT
        arrivals = {}
        problems = []
        for path in sorted(glob.glob(os.path.join(sink, "*.eml"))):
            raw = open(path, "rb").read()
            arrivals.setdefault(message_id(raw), []).append((path, raw))
        expected = {message_id(open(os.path.join(data, "deliver", i + ".eml"), "rb").read()): i for i in deliver}
        cv_pass = 0
        for mid, i in expected.items():
            copies = arrivals.get(mid, [])
            if len(copies) != 1:
                problems.append(f"{i} {mid}: arrived {len(copies)} times")
                continue
            raw = copies[0][1]
            results = top_authentication_results(raw)
            if not results or not results.startswith(AUTHSERV_ID + ";"):
                problems.append(f"{i}: no Authentication-Results of ours on top ({results!r})")
            cv, comment = dkimpy_arc(raw, resolver)
            if cv == "pass" and raw.startswith(b"ARC-Seal: i=1;"):
                cv_pass += 1
            else:
                problems.append(f"{i}: dkimpy arc_verify cv={cv} ({comment})")
        unexpected = [m for m in arrivals if m not in expected]
        if unexpected:
            problems.append(f"{len(unexpected)} arrivals that are not deliver-verdict messages")
        if len(deliver) + len(quarantine) != accepted:
            problems.append(f"deliver {len(deliver)} + quarantine {len(quarantine)} != accepted {accepted}")
        metrics = subprocess.run(["curl", "-s", f"http://127.0.0.1:{http}/metrics"], capture_output=True, text=True).stdout
        delivery_metrics = [line for line in metrics.splitlines() if line.startswith("mailpipeline_deliver") and not line.startswith("mailpipeline_delivery_record_seconds_bucket")]

        print(json.dumps({
            "corpus": len(envelopes), "accepted": accepted, "deliver": len(deliver), "quarantine": len(quarantine),
            "arrived": sum(len(v) for v in arrivals.values()), "arrived_before_next_hop_back": arrived_before_back,
            "arc_cv_pass": cv_pass, "seconds_to_catch_up_after_next_hop_back": round(caught_up, 1),
            "total_seconds": round(time.time() - t0, 1), "kill_serve": a.kill_serve, "outage_s": a.outage,
            "problems": problems[:20], "problem_count": len(problems)}, indent=1))
        print("\n".join(delivery_metrics))
        print("PASS" if not problems else "FAIL")
        return 0 if not problems else 1
    finally:
        for process in started:
            stop(process)
        subprocess.run([os.path.join(RIG, "dns.sh"), "stop"], env=dict(os.environ, BENCH_OUT=OUT, DNS_PORT=str(DNS_PORT)))


if __name__ == "__main__":
    sys.exit(main())
