#!/usr/bin/env python3
"""Acceptance check `edge-client-ip` against the peer rig's corpus (/work/shared/bench or a copy).

Starts `mailpipeline serve --trusted-proxy 127.0.0.2/32 --xclient-host 127.0.0.4/32` on the rig's Knot zones and
relays three corpus messages whose SPF passes for their client address: one after a PROXY v1 header and one after a
PROXY v2 header (with TLVs), both from 127.0.0.2, and one after XCLIENT (swaks) from 127.0.0.4. Each routed
document's `receivedSpf` must name that address and say pass. Then the same header/command from other loopback
addresses (127.0.0.3, 127.0.0.5) must be refused. Exit code 0 when everything holds.

usage: BENCH_OUT=/tmp/bench-me DNS_PORT=5399 bench/edge-client-ip.py [--cli path/to/mailpipeline.dll]
(run gen_corpus.py and dns.sh start with the same BENCH_OUT and DNS_PORT first)
"""
import argparse, json, os, smtplib, socket, struct, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def v1(ip, port=40000):
    return f"PROXY TCP4 {ip} 192.0.2.25 {port} 25\r\n".encode()


def v2(ip, port=40000):
    tlvs = bytes([0x05]) + struct.pack("!H", 8) + b"conn-001" + bytes([0x04]) + struct.pack("!H", 3) + b"\0\0\0"
    body = socket.inet_aton(ip) + socket.inet_aton("192.0.2.25") + struct.pack("!HH", port, 25) + tlvs
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


class ProxiedSMTP(smtplib.SMTP):
    """smtplib, with the PROXY header written on the socket before the greeting is read."""

    def __init__(self, header, source, **kw):
        self._header, self._source = header, source
        super().__init__(**kw)

    def _get_socket(self, host, port, timeout):
        sock = socket.create_connection((host, port), timeout, (self._source, 0))
        sock.sendall(self._header)
        return sock


def wait_routed(data, queue_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for folder in ("deliver", "quarantine"):
            path = os.path.join(data, folder, queue_id + ".json")
            if os.path.exists(path):
                time.sleep(0.1)
                return folder, json.load(open(path))
        time.sleep(0.1)
    raise TimeoutError(f"{queue_id} was not routed")


def find(doc, key):
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == key and isinstance(v, str):
                return v
            r = find(v, key)
            if r:
                return r
    if isinstance(doc, list):
        for v in doc:
            r = find(v, key)
            if r:
                return r
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=None)
    args = ap.parse_args()
    out = os.environ.get("BENCH_OUT", "/tmp/mailpipeline-bench")
    dns_port = os.environ.get("DNS_PORT", "5353")
    cli = args.cli or next(p for p in (os.path.join(ROOT, "src/MailPipeline.Cli/bin", c, "net10.0/mailpipeline.dll") for c in ("Release", "Debug")) if os.path.exists(p))
    corpus = os.path.join(out, "corpus")
    envelopes = [json.loads(l) for l in open(os.path.join(corpus, "envelopes.jsonl"))]
    expected = {d["id"]: d for d in (json.loads(l) for l in open(os.path.join(corpus, "expected.jsonl")))}
    picks, seen = [], set()
    for e in envelopes:
        if expected[e["id"]]["spf"] == "pass" and e["ip"] not in seen and ":" not in e["ip"]:
            picks.append(e)
            seen.add(e["ip"])
        if len(picks) == 3:
            break
    domains = sorted({r.split("@")[1] for e in envelopes for r in e["rcpt_to"]})
    work = tempfile.mkdtemp(prefix="edge-client-ip-")
    data = os.path.join(work, "data")
    smtp_port, http_port = free_port(), free_port()
    cmd = ["dotnet", cli, "serve", "--smtp", f"127.0.0.1:{smtp_port}", "--http", f"127.0.0.1:{http_port}", "--data", data,
           "--resolver", f"127.0.0.1:{dns_port}", "--trusted-proxy", "127.0.0.2/32", "--xclient-host", "127.0.0.4/32"]
    for d in domains:
        cmd += ["--accept-domain", d]
    log = open(os.path.join(work, "serve.log"), "w")
    serve = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        deadline = time.time() + 60
        while "SMTP on" not in open(log.name).read():
            if serve.poll() is not None or time.time() > deadline:
                sys.exit("serve did not start:\n" + open(log.name).read())
            time.sleep(0.2)

        def check(label, queue_id, ip):
            folder, verdict = wait_routed(data, queue_id)
            spf = find(verdict, "receivedSpf") or ""
            ok = ip in spf and spf.startswith("Received-SPF: pass")
            print(f"{'PASS' if ok else 'FAIL'} {label}: {queue_id} -> {folder}; {spf[:110]}")
            if not ok:
                failures.append(label)

        for label, header, e in (("proxy-v1 from 127.0.0.2", v1(picks[0]["ip"]), picks[0]), ("proxy-v2 from 127.0.0.2", v2(picks[1]["ip"]), picks[1])):
            with ProxiedSMTP(header, "127.0.0.2", host="127.0.0.1", port=smtp_port, local_hostname=e["helo"]) as s:
                msg = open(os.path.join(corpus, e["file"]), "rb").read()
                s.ehlo(e["helo"])
                s.mail(e["mail_from"])
                for r in e["rcpt_to"]:
                    s.rcpt(r)
                code, reply = s.data(msg)
                queue_id = reply.decode().split()[-1]
            check(f"{label} as {e['ip']} ({e['id']})", queue_id, e["ip"])

        e = picks[2]
        swaks = subprocess.run(["swaks", "--server", f"127.0.0.1:{smtp_port}", "--local-interface", "127.0.0.4", "--helo", "front.example",
                                "--xclient-addr", e["ip"], "--xclient-helo", e["helo"], "--from", e["mail_from"], "--to", ",".join(e["rcpt_to"]),
                                "--data", "@" + os.path.join(corpus, e["file"])], capture_output=True, text=True, timeout=60)
        queued = [l for l in swaks.stdout.splitlines() if "queued as" in l]
        if swaks.returncode != 0 or not queued:
            failures.append("xclient")
            print("FAIL xclient from 127.0.0.4: swaks\n" + swaks.stdout + swaks.stderr)
        else:
            check(f"xclient from 127.0.0.4 as {e['ip']} ({e['id']})", queued[0].split()[-1], e["ip"])

        for label, source, header in (("proxy-v1", "127.0.0.3", v1(picks[0]["ip"])), ("proxy-v2", "127.0.0.3", v2(picks[1]["ip"]))):
            with socket.create_connection(("127.0.0.1", smtp_port), 10, (source, 0)) as sock:
                greeting = sock.recv(512).decode()
                sock.sendall(header)
                reply = b""
                while chunk := sock.recv(512):
                    reply += chunk
            ok = greeting.startswith("220 ") and reply.decode().startswith("554 5.7.0")
            print(f"{'PASS' if ok else 'FAIL'} {label} from {source} refused: {reply.decode().strip()}")
            if not ok:
                failures.append(label + " refused")
        with socket.create_connection(("127.0.0.1", smtp_port), 10, ("127.0.0.5", 0)) as sock:
            f = sock.makefile("rwb")
            f.readline()
            f.write(b"EHLO x.example\r\n"); f.flush()
            while not f.readline()[3:4] == b" ":
                pass
            f.write(f"XCLIENT ADDR={picks[2]['ip']}\r\n".encode()); f.flush()
            reply = f.readline().decode().strip()
        ok = reply.startswith("550 5.7.0")
        print(f"{'PASS' if ok else 'FAIL'} xclient from 127.0.0.5 refused: {reply}")
        if not ok:
            failures.append("xclient refused")
    finally:
        serve.terminate()
        serve.wait(60)
    print(f"edge-client-ip: {'OK' if not failures else 'FAILED: ' + ', '.join(failures)} (serve log: {log.name})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
