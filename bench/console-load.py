#!/usr/bin/env python3
"""Console list/search latency over a large quarantine (bench/RESULTS.md, "Operator console").

  bench/console-load.py [-n 50000] [--requests 20] [--configuration Debug|Release]

Writes N quarantined messages straight into a fresh data directory in serve's layout (quarantine/<id>.eml with our
Authentication-Results first, quarantine/<id>.json = verdict + envelope, as the aggregator writes them; 500 From
domains, 4 reasons, 30 days of receive times), starts the built `mailpipeline serve` on it, and times HTTP requests to
the console: the first GET / (the index is built: every message described once), then --requests of each of: the first
page, page 500, a From-domain search, a reason search, a sender search, a recipient search, a date range; and a GET /
after 100 more messages arrived (the index reads only those). Prints one JSON line; every process is stopped by PID.
"""
import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request

from benchrig import free_port, listening, wait_until

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REASONS = ["dmarc=fail header.from={d} p=reject disposition=reject", "dnsbl: 192.0.2.{o} listed on bl.test (127.0.0.2)",
           "spf=fail smtp.mailfrom={d}", "delivery: 550 5.7.1 rejected by next hop"]


def ulid(ms, n):
    value = (ms << 80) | n
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def seed(data, count, start, rng):
    folder = os.path.join(data, "quarantine")
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        at = start + rng.random() * 30 * 86400
        mid = ulid(int(at * 1000), i)
        d = f"sender{i % 500}.example"
        received = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + "+00:00"
        reason = REASONS[i % 4].format(d=d, o=i % 250)
        document = {"messageId": mid, "dmarc": {"result": "fail", "domain": d, "policy": "reject", "disposition": "quarantine", "reason": "not aligned"},
                    "action": "quarantine", "reasons": [reason], "rules": [], "authenticationResults": f"mx.bench.test; dmarc=fail header.from={d}",
                    "receivedAt": received, "attempt": 1,
                    "envelope": {"schemaVersion": 1, "messageId": mid, "rawMessageReference": mid, "clientAddress": f"192.0.2.{i % 250}", "clientPort": 25000,
                                 "helo": "client.bench.test", "esmtp": True, "mailFrom": f"bounce{i}@{d}", "recipients": [f"user{i % 200}@inbound.test"],
                                 "smtpUtf8": False, "size": 900, "receivedAt": received, "receivedBy": "mx.bench.test", "forgedAuthenticationResults": []}}
        message = (f"Authentication-Results: mx.bench.test; dmarc=fail header.from={d}\r\nReceived: from client.bench.test ([192.0.2.{i % 250}])\r\n"
                   f"From: Sender {i} <s{i}@{d}>\r\nTo: <user{i % 200}@inbound.test>\r\nSubject: Quarterly report {i}\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n"
                   f"Message-ID: <{i}@{d}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + "Lorem ipsum dolor sit amet.\r\n" * 20)
        with open(os.path.join(folder, mid + ".json"), "w") as f:
            json.dump(document, f, separators=(",", ":"))
        with open(os.path.join(folder, mid + ".eml"), "w", newline="") as f:
            f.write(message)


def get(url):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as response:
        body = response.read()
    return (time.perf_counter() - t0) * 1000, body


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=50000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--configuration", default="Debug")
    a = parser.parse_args()
    rng = random.Random(23)
    work = tempfile.mkdtemp(prefix="mp-console-load-")
    data = os.path.join(work, "data")
    start = time.time() - 31 * 86400
    t0 = time.time()
    seed(data, a.n, start, rng)
    seeded_s = time.time() - t0
    smtp, http = free_port(), free_port()
    cli = os.path.join(REPO, "src", "MailPipeline.Cli", "bin", a.configuration, "net10.0", "mailpipeline.dll")
    log = open(os.path.join(work, "serve.log"), "ab")
    serve = subprocess.Popen(["dotnet", cli, "serve", "--data", data, "--smtp", f"127.0.0.1:{smtp}", "--http", f"127.0.0.1:{http}",
                              "--resolver", "127.0.0.1:9", "--hostname", "mx.bench.test"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_until(lambda: listening(http) or serve.poll() is not None, 120, "serve to listen")
        base = f"http://127.0.0.1:{http}"
        first_ms, body = get(base + "/")
        assert b"id=\"quarantine\"" in body, "the first page lists no message"
        day = time.strftime("%Y-%m-%d", time.gmtime(start + 10 * 86400))
        cases = {"first page": "/", "page 500": "/?page=500", "from domain": "/?domain=sender42.example", "reason": "/?reason=bl.test",
                 "sender": "/?sender=s4242@", "recipient": "/?recipient=user7@", "date range": f"/?since={day}&until={day}"}
        figures = {}
        for name, path in cases.items():
            times = []
            for _ in range(a.requests):
                ms, _ = get(base + path)
                times.append(ms)
                time.sleep(0.05)
            times.sort()
            figures[name] = {"median_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1)}
        seed(data, 100, time.time() - 3600, random.Random(99))  # 100 more arrive (same id scheme, new ids)
        time.sleep(1.1)  # past the index's freshness
        after_ms, _ = get(base + "/")
        rss_kb = int([line.split()[1] for line in open(f"/proc/{serve.pid}/status") if line.startswith("VmRSS:")][0])
        print(json.dumps({"bench": "console-load", "messages": a.n, "seed_s": round(seeded_s, 1), "first_get_root_ms": round(first_ms, 1),
                          "get_root_after_100_new_ms": round(after_ms, 1), "requests_each": a.requests, "latency": figures,
                          "serve_rss_mb": round(rss_kb / 1024), "configuration": a.configuration, "load_avg": os.getloadavg()[0]}))
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
