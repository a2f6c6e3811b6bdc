#!/usr/bin/env python3
"""Acceptance check `in-session` against the peer rig's corpus (/work/shared/bench).

Starts Debian's aiosmtpd as the next hop (tests/.../nexthop.py, refusing recipients containing "nobody") and
`mailpipeline serve --in-session-dmarc --next-hop smtp://... --verify-recipients --xclient-host 127.0.0.1/32` on the
rig's Knot zones, then relays corpus messages from their corpus client addresses — `--via xclient` (XCLIENT ADDR/HELO,
serve --xclient-host) or `--via proxy` (a PROXY v1 header, serve --trusted-proxy) — then MAIL FROM and RCPT TO from
envelopes.jsonl. A message whose expected DMARC result is fail under p=reject must get a 5xx at the
end of DATA and leave nothing routed; every other one must get 250 and be routed (deliver or quarantine). Then a
recipient the next hop refuses must get a 5xx at RCPT (and a known one 250). Exit code 0 when everything holds; a JSON
line goes to $BENCH_OUT/results/in-session.jsonl.

The in-session decision times come from serve's log (event "In-session checks ... in N ms"): the first message's and
the largest are reported, with how many were decided past the time budget (undecided).

usage: BENCH_OUT=/tmp/bench-me DNS_PORT=5317 bench/in-session-acceptance.py [--cli path/to/mailpipeline.dll] [--count N] [--via xclient|proxy]
(run gen_corpus.py and dns.sh start with the same BENCH_OUT and DNS_PORT first)
"""
import argparse, json, os, re, smtplib, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(what)


class ProxySMTP(smtplib.SMTP):
    """smtplib with a PROXY protocol v1 header sent before the greeting is read (serve --trusted-proxy)."""

    def __init__(self, host, port, client_ip, timeout):
        self.client_ip = client_ip
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        family = "TCP6" if ":" in self.client_ip else "TCP4"
        local = "::1" if family == "TCP6" else "127.0.0.1"
        sock.sendall(f"PROXY {family} {self.client_ip} {local} 40000 {port}\r\n".encode())
        return sock


def routed(data):
    return {f[:-5] for folder in ("deliver", "quarantine") if os.path.isdir(os.path.join(data, folder))
            for f in os.listdir(os.path.join(data, folder)) if f.endswith(".json")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=os.path.join(ROOT, "src/MailPipeline.Cli/bin/Debug/net10.0/mailpipeline.dll"))
    parser.add_argument("--count", type=int, default=0, help="messages to send (0 = the whole corpus)")
    parser.add_argument("--no-warm-up", action="store_true", help="Edge:InSession:WarmUp=false (to measure the cold first message)")
    parser.add_argument("--via", choices=["xclient", "proxy"], default="xclient", help="how the corpus client address reaches serve")
    args = parser.parse_args()
    bench = os.environ.get("BENCH_OUT", "/tmp/mailpipeline-bench")
    dns_port = os.environ.get("DNS_PORT", "5353")
    corpus = os.path.join(bench, "corpus")
    envelopes = [json.loads(l) for l in open(os.path.join(corpus, "envelopes.jsonl"))]
    expected = {e["id"]: e for e in map(json.loads, open(os.path.join(corpus, "expected.jsonl")))}
    if args.count:
        envelopes = envelopes[:args.count]
    domains = sorted({r.rsplit("@", 1)[1].lower() for e in envelopes for r in e["rcpt_to"]})

    work = tempfile.mkdtemp(prefix="in-session-")
    data = os.path.join(work, "data")
    hop_port, smtp_port, http_port = free_port(), free_port(), free_port()
    hop = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests/MailPipeline.Delivery.Tests/TestData/delivery/nexthop.py"),
                            "--out", os.path.join(work, "hop"), "--port", str(hop_port), "--reject-rcpt", "nobody"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    os.makedirs(os.path.join(work, "hop"), exist_ok=True)
    assert hop.stdout.readline().strip() == "ready", "next hop did not start"
    config = os.path.join(work, "mailpipeline.json")
    json.dump({
        "Edge": {"HostName": "mx.test", "MaxSessionsPerIp": 1000, "MaxConnectionsPerIpPerMinute": 100000, "ReverseDnsLookup": False,
                 "InSession": {"WarmUp": not args.no_warm_up}},
        "AuthenticationResults": {"AuthServId": "mx.test"},
        "Delivery": {"HeloName": "mx.test"},
        "Logging": {"LogLevel": {"Default": "Warning", "MailPipeline.Edge.Smtp": "Information"}},
    }, open(config, "w"))
    command = ["dotnet", args.cli, "serve", "--data", data, "--smtp", f"127.0.0.1:{smtp_port}", "--http", f"127.0.0.1:{http_port}",
               "--resolver", f"127.0.0.1:{dns_port}", "--config", config, "--in-session-dmarc",
               "--next-hop", f"smtp://127.0.0.1:{hop_port}", "--verify-recipients",
               "--xclient-host" if args.via == "xclient" else "--trusted-proxy", "127.0.0.1/32"]
    for d in domains:
        command += ["--accept-domain", d]
    log = open(os.path.join(work, "serve.log"), "w")
    serve = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    failures, counts = [], {"refused_at_data": 0, "accepted_routed": 0}
    started = time.time()
    try:
        wait_for(lambda: "SMTP on" in open(os.path.join(work, "serve.log")).read(), "serve did not start")
        accepted_ids = []
        for e in envelopes:
            exp = expected[e["id"]]
            must_refuse = exp["dmarc"] == "fail" and exp.get("dmarc_policy") == "reject"
            if args.via == "proxy":
                s = ProxySMTP("127.0.0.1", smtp_port, e["ip"], timeout=120)
            else:
                s = smtplib.SMTP("127.0.0.1", smtp_port, timeout=120)
                s.ehlo("relay.test")
                code, msg = s.docmd("XCLIENT", f"ADDR={e['ip']} HELO={e['helo']}")
                if code != 220:
                    failures.append(f"{e['id']}: XCLIENT answered {code} {msg!r}")
                    s.close()
                    continue
                s.ehlo_resp = None
            s.ehlo(e["helo"])
            s.mail(e["mail_from"])
            for r in e["rcpt_to"]:
                s.rcpt(r)
            try:
                code, msg = s.data(open(os.path.join(corpus, e["file"]), "rb").read())
            except smtplib.SMTPDataError as err:
                code, msg = err.smtp_code, err.smtp_error
            s.quit()
            text = msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
            if code == 250:
                accepted_ids.append(text.rsplit(" ", 1)[1])  # whatever was expected, a 250 must be routed
            else:
                counts["refused_at_data"] += 1
            if must_refuse and not (500 <= code < 600):
                failures.append(f"{e['id']} (dmarc=fail p=reject): got {code} {text}")
            elif not must_refuse and code != 250:
                failures.append(f"{e['id']} (dmarc={exp['dmarc']} p={exp.get('dmarc_policy')}): got {code} {text}")
        wait_for(lambda: set(accepted_ids) <= routed(data), "not every accepted message was routed", timeout=300)
        counts["accepted_routed"] = len(accepted_ids)
        extra = routed(data) - set(accepted_ids)
        if extra:
            failures.append(f"routed but never accepted: {sorted(extra)}")

        # serve with --trusted-proxy expects the header on every connection from 127.0.0.1
        s = ProxySMTP("127.0.0.1", smtp_port, "192.0.2.200", timeout=120) if args.via == "proxy" else smtplib.SMTP("127.0.0.1", smtp_port, timeout=120)
        s.ehlo("relay.test")
        s.mail("")
        unknown = s.rcpt(f"nobody@{domains[0]}")
        known = s.rcpt(f"dave@{domains[0]}")
        s.quit()
        if not 500 <= unknown[0] < 600:
            failures.append(f"unknown recipient: got {unknown}")
        if known[0] != 250:
            failures.append(f"known recipient: got {known}")
        counts["rcpt_unknown_reply"] = f"{unknown[0]} {unknown[1].decode()}"
    finally:
        serve.terminate()
        serve.wait(60)
        hop.terminate()
        hop.wait(10)

    decisions = [(m.group(1), float(m.group(2))) for m in re.finditer(r"In-session checks in session \S+ from \S+: (\S+) .*? in ([0-9.]+) ms", open(os.path.join(work, "serve.log")).read())]
    warm = re.search(r"In-session checks warmed up: (.*?) in ([0-9.]+) ms", open(os.path.join(work, "serve.log")).read())
    if decisions:
        counts["decision_ms_first"] = round(decisions[0][1])
        counts["decision_ms_max"] = round(max(d for _, d in decisions))
        counts["decision_ms_median"] = round(sorted(d for _, d in decisions)[len(decisions) // 2])
        counts["undecided"] = sum(1 for o, _ in decisions if o == "undecided")
    counts["warm_up_ms"] = round(float(warm.group(2))) if warm else None
    result = {"check": "in-session", "via": args.via, "warm_up": not args.no_warm_up, "messages": len(envelopes), **counts, "failures": len(failures), "seconds": round(time.time() - started, 1)}
    os.makedirs(os.path.join(bench, "results"), exist_ok=True)
    with open(os.path.join(bench, "results", "in-session.jsonl"), "a") as out:
        out.write(json.dumps(result) + "\n")
    print(json.dumps(result))
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
