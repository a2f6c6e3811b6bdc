"""Small helpers the bench/*-acceptance.py scripts share: free loopback ports, waiting for a listener or a condition,
the peer rig's corpus and its DNS."""
import json
import os
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def wait_until(condition, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what)


def rig_corpus_and_dns(rig, out, dns_port, n, log):
    """Generates the rig's corpus of n messages in out/corpus unless one of that size is there, starts the rig's Knot on
    dns_port, and returns the corpus envelopes. The caller stops DNS with rig_dns_stop."""
    corpus = os.path.join(out, "corpus")
    envelopes_path = os.path.join(corpus, "envelopes.jsonl")
    if not os.path.exists(envelopes_path) or sum(1 for _ in open(envelopes_path)) != n:
        log(f"generating a corpus of {n} messages in {corpus}")
        subprocess.run(["/usr/bin/python3", os.path.join(rig, "gen_corpus.py"), "-n", str(n), "--out", out], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(rig, "dns.sh"), "start"], check=True, env=dict(os.environ, BENCH_OUT=out, DNS_PORT=str(dns_port)))
    return [json.loads(line) for line in open(envelopes_path)]


def rig_dns_stop(rig, out, dns_port):
    subprocess.run([os.path.join(rig, "dns.sh"), "stop"], env=dict(os.environ, BENCH_OUT=out, DNS_PORT=str(dns_port)))
