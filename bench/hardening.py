#!/usr/bin/env python3
"""Acceptance checks `hardening` against `mailpipeline serve` with its default limits.

  idle-flood    1,500 idle connections from 75 loopback addresses (127.0.0.2-76, 20 each), serve started with a
                soft open-file limit of 1024 (as a login shell's `ulimit -n`); then a new client from 127.0.0.1 and
                one from a flooding address send mail: both must get 250.
  big-messages  ten concurrent 20 MB messages: each 250 and routed; serve's peak RSS (VmHWM) may grow < 300 MB
                over its peak after a warm-up message.
  full-disk     serve's data folder on a small tmpfs (needs root: mount -t tmpfs), filled with a ballast file;
                messages until the edge refuses (452/451, never 250 for a message it could not store), then the
                ballast is removed: a new message gets 250 and every message answered 250 is routed.

usage: bench/hardening.py [--cli path/to/mailpipeline.dll] [idle-flood|big-messages|full-disk]...   (default: all)
Every check prints PASS/FAIL lines and a summary; the exit code is 0 when all hold. DNS: a tiny in-process
resolver answers NXDOMAIN to everything (no SPF/DKIM/DMARC records, no listings), so messages route without a
DNS rig. Traffic stays on loopback; every wait is bounded.
"""
import argparse, json, os, resource, select, shutil, smtplib, socket, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DOMAIN = "ours.example"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NxDomainResolver(threading.Thread):
    """UDP DNS server on loopback that answers every query NXDOMAIN (RA, question echoed)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(query) < 12:
                continue
            ident, flags, qd = struct.unpack("!HHH", query[:6])
            end = 12
            while end < len(query) and query[end] != 0:
                end += query[end] + 1
            question = query[12:end + 5]
            reply = struct.pack("!HHHHHH", ident, 0x8000 | (flags & 0x0100) | 0x0080 | 3, 1 if qd else 0, 0, 0, 0) + question
            self.sock.sendto(reply, peer)


class Serve:
    def __init__(self, cli, data, dns_port, nofile_soft=None, extra=()):
        self.data = data
        self.smtp_port, self.http_port = free_port(), free_port()
        self.config = os.path.join(os.path.dirname(data.rstrip("/")), f"serve-{self.smtp_port}.json")
        with open(self.config, "w") as f:
            # Only what a loopback test needs: no reverse DNS for the Received header. Every limit stays default.
            json.dump({"Edge": {"HostName": "mx.ours.example", "ReverseDnsLookup": False}}, f)
        cmd = ["dotnet", cli, "serve", "--smtp", f"127.0.0.1:{self.smtp_port}", "--http", f"127.0.0.1:{self.http_port}",
               "--data", data, "--resolver", f"127.0.0.1:{dns_port}", "--accept-domain", DOMAIN, "--config", self.config, *extra]
        self.log = open(os.path.join(os.path.dirname(data.rstrip("/")), f"serve-{self.smtp_port}.log"), "w")

        def limit():
            if nofile_soft:
                _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile_soft, hard))

        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=limit)
        deadline = time.time() + 180
        while "SMTP on" not in open(self.log.name).read():
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit("serve did not start:\n" + open(self.log.name).read())
            time.sleep(0.2)

    def status(self, key):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
        return 0

    def open_file_limit(self):
        for line in open(f"/proc/{self.proc.pid}/limits"):
            if line.startswith("Max open files"):
                return " ".join(line.split()[3:5])
        return "?"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


def message(size, n):
    body_line = ("%076d" % n)[:76] + "\r\n"
    lines = max(1, size // len(body_line))
    head = f"From: sender{n}@example.org\r\nTo: user@{DOMAIN}\r\nSubject: hardening {n}\r\nMessage-ID: <h{n}.{time.time_ns()}@example.org>\r\n\r\n"
    return (head + body_line * lines).encode()


def send(port, data, source="127.0.0.1", timeout=300):
    """Returns (code, reply text) of the end of DATA, or of the first refused command."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=timeout, source_address=(source, 0), local_hostname="client.example.org") as s:
            s.ehlo()
            code, text = s.mail("sender@example.org")
            if code != 250:
                return code, text.decode(errors="replace")
            code, text = s.rcpt(f"user@{DOMAIN}")
            if code != 250:
                return code, text.decode(errors="replace")
            code, text = s.data(data)
            return code, text.decode(errors="replace")
    except smtplib.SMTPResponseException as e:
        return e.smtp_code, e.smtp_error.decode(errors="replace")
    except (smtplib.SMTPException, OSError) as e:
        return 0, f"{type(e).__name__}: {e}"


def queue_id(text):
    return text.split()[-1]


def wait_routed(data, ids, timeout):
    deadline, missing = time.time() + timeout, set(ids)
    while missing and time.time() < deadline:
        missing = {i for i in missing if not any(os.path.exists(os.path.join(data, f, i + ".json")) for f in ("deliver", "quarantine"))}
        if missing:
            time.sleep(0.5)
    return missing


def idle_flood(cli, dns_port, work, out):
    serve = Serve(cli, os.path.join(work, "data"), dns_port, nofile_soft=1024)
    socks, greeted, refused = [], 0, 0
    try:
        out(f"serve pid {serve.proc.pid}, started with soft RLIMIT_NOFILE 1024; its limit now: {serve.open_file_limit()}")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
        started = time.time()
        for a in range(2, 77):
            for _ in range(20):
                s = socket.create_connection(("127.0.0.1", serve.smtp_port), 30, (f"127.0.0.{a}", 0))
                socks.append(s)
        opened = time.time() - started
        for s in socks:
            s.settimeout(30)
            line = s.recv(512)
            if line.startswith(b"220"):
                greeted += 1
            else:
                refused += 1
        out(f"flood: {len(socks)} connections from 75 addresses opened in {opened:.1f} s; greetings: {greeted} x 220, {refused} other")
        t = time.time()
        code, text = send(serve.smtp_port, message(2000, 1), "127.0.0.1", timeout=120)
        fresh = time.time() - t
        t = time.time()
        code2, text2 = send(serve.smtp_port, message(2000, 2), "127.0.0.2", timeout=120)
        same = time.time() - t
        poll = select.poll()
        for s in socks:
            poll.register(s, select.POLLIN)
        readable = [fd for fd, _ in poll.poll(0)]
        by_fd = {s.fileno(): s for s in socks}
        peeked = [by_fd[fd].recv(512, socket.MSG_PEEK) for fd in readable]
        closed = sum(1 for p in peeked if not p)
        told = sum(1 for p in peeked if p.startswith(b"421"))
        still = len(socks) - len(readable)
        out(f"new client 127.0.0.1: {code} {text.strip()} in {fresh:.1f} s; new client 127.0.0.2 (a flooding address at its 20): {code2} {text2.strip()} in {same:.1f} s")
        out(f"flood connections still open and silent afterwards: {still}; sent 421 (idle one evicted for a new client, or stress timeout): {told}; closed: {closed}; serve VmRSS {serve.status('VmRSS') // 1024} MB, threads {serve.status('Threads')}")
        # Stress mode: 1,500 sessions >= half of MaxSessions; silent ones get Edge:StressCommandTimeout (10 s).
        time.sleep(15)
        peeked = [by_fd[fd].recv(512, socket.MSG_PEEK) for fd, _ in poll.poll(0)]
        stressed = sum(1 for p in peeked if p.startswith(b"421 4.4.2"))
        code3, text3 = send(serve.smtp_port, message(2000, 3), "127.0.0.1", timeout=120)
        out(f"15 s later (stress mode, 10 s command timeout): {stressed} flood connections got 421 4.4.2; another client: {code3} {text3.strip()}")
        ok = greeted == 1500 and code == 250 and code2 == 250 and code3 == 250
        missing = wait_routed(serve.data, [queue_id(x) for c, x in ((code, text), (code2, text2)) if c == 250], 120)
        ok = ok and not missing
        out(f"{'PASS' if ok else 'FAIL'} idle-flood: 1,500 idle connections (all greeted: {greeted == 1500}), both new clients served and routed")
        return ok
    finally:
        for s in socks:
            s.close()
        serve.stop()


def big_messages(cli, dns_port, work, out):
    serve = Serve(cli, os.path.join(work, "data"), dns_port)
    try:
        code, text = send(serve.smtp_port, message(200_000, 0))
        wait_routed(serve.data, [queue_id(text)] if code == 250 else [], 120)
        base_hwm, base_rss = serve.status("VmHWM"), serve.status("VmRSS")
        payloads = [message(20 * 1024 * 1024, n) for n in range(1, 11)]
        results = [None] * 10

        def one(i):
            results[i] = send(serve.smtp_port, payloads[i], timeout=600)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
        t = time.time()
        for th in threads:
            th.start()
        for th in threads:
            th.join(900)
        took = time.time() - t
        accepted = [r for r in results if r and r[0] == 250]
        missing = wait_routed(serve.data, [queue_id(r[1]) for r in accepted], 600)
        hwm = serve.status("VmHWM")
        growth = (hwm - base_hwm) / 1024
        out(f"10 x {len(payloads[0]) / 1e6:.1f} MB concurrently: {len(accepted)} x 250 in {took:.1f} s, routed {len(accepted) - len(missing)}; "
            f"VmHWM after warm-up {base_hwm // 1024} MB (VmRSS {base_rss // 1024} MB) -> {hwm // 1024} MB: growth {growth:.0f} MB")
        for r in results:
            if not r or r[0] != 250:
                out(f"  not accepted: {r}")
        ok = len(accepted) == 10 and not missing and growth < 300
        out(f"{'PASS' if ok else 'FAIL'} big-messages: peak memory growth {growth:.0f} MB < 300 MB, all 10 accepted and routed")
        return ok
    finally:
        serve.stop()


def full_disk(cli, dns_port, work, out):
    mount = os.path.join(work, "tmpfs")
    os.makedirs(mount)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mount], capture_output=True, text=True)
    if r.returncode != 0:
        out(f"FAIL full-disk: cannot mount a tmpfs (root needed): {r.stderr.strip()}")
        return False
    serve = None
    try:
        data = os.path.join(mount, "data")
        serve = Serve(cli, data, dns_port)
        ballast = os.path.join(mount, "ballast")
        stat = os.statvfs(mount)
        free = stat.f_bavail * stat.f_frsize
        subprocess.run(["dd", "if=/dev/zero", f"of={ballast}", "bs=1M", f"count={max(1, free // 1048576 - 6)}", "status=none"], check=False)
        stat = os.statvfs(mount)
        out(f"tmpfs 64 MB at {mount}; after the ballast {stat.f_bavail * stat.f_frsize // 1024} KiB free")
        replies, accepted = [], []
        for n in range(1, 16):
            code, text = send(serve.smtp_port, message(1024 * 1024, n), timeout=120)
            replies.append(code)
            if code == 250:
                accepted.append(queue_id(text))
            else:
                out(f"  message {n}: {code} {text.strip()}")
            if len(replies) >= 3 and all(c != 250 for c in replies[-3:]):
                break
        refused = [c for c in replies if c != 250]
        out(f"disk full: replies {replies}")
        os.remove(ballast)
        time.sleep(1)
        code, text = send(serve.smtp_port, message(1024 * 1024, 99), timeout=120)
        if code == 250:
            accepted.append(queue_id(text))
        out(f"after freeing the ballast: {code} {text.strip()}")
        missing = wait_routed(data, accepted, 300)
        out(f"answered 250: {len(accepted)}; routed: {len(accepted) - len(missing)}; missing: {sorted(missing)}")
        ok = bool(refused) and all(c in (421, 451, 452) for c in refused) and code == 250 and not missing
        out(f"{'PASS' if ok else 'FAIL'} full-disk: refused with 4xx while full (never a 250 for what was not stored), 250 once space returned, every 250 routed")
        return ok
    finally:
        if serve:
            serve.stop()
        subprocess.run(["umount", "-l", mount], check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=None)
    ap.add_argument("checks", nargs="*", default=["idle-flood", "big-messages", "full-disk"])
    args = ap.parse_args()
    cli = args.cli or next(p for p in (os.path.join(ROOT, "src/MailPipeline.Cli/bin", c, "net10.0/mailpipeline.dll") for c in ("Release", "Debug")) if os.path.exists(p))
    dns = NxDomainResolver()
    dns.start()
    results = {}
    for check in args.checks:
        work = tempfile.mkdtemp(prefix=f"hardening-{check}-")
        print(f"== {check} (work {work}; load average {os.getloadavg()[0]:.1f})", flush=True)
        fn = {"idle-flood": idle_flood, "big-messages": big_messages, "full-disk": full_disk}[check]
        results[check] = fn(cli, dns.port, work, lambda s: print(s, flush=True))
    print("hardening: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
