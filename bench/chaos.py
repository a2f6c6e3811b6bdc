#!/usr/bin/env python3
"""Chaos run: repeated `kill -9` of `mailpipeline serve` under load, counting lost and duplicated messages.

Every trial pushes --messages messages concurrently (--connections SMTP sessions, each sending its share one
transaction after another, ten sessions per loopback address 127.0.0.2, .3, ..., each message with its own Message-ID), kills serve with SIGKILL once a random number of
them has been answered 250 (plus a random 0-100 ms), restarts serve on the same data folder, and waits until every
message the edge answered 250 for is routed (deliver/ or quarantine/: both <id>.json and <id>.eml) and, with
--next-hop, until every deliver-routed one has reached the next hop (aiosmtpd, tests/MailPipeline.Delivery.Tests/
TestData/delivery/nexthop.py). The restarted serve takes the next trial's load. For every message answered 250:

  lost        not routed (or, with --next-hop, routed to deliver but never received by the next hop) within --drain s
  duplicated  routed under two queue ids, or received by the next hop more than once (same Message-ID)

Also reported (not a fault): messages stored although the client saw no 250 (the kill fell between the durable
commit and the reply; RFC 5321 §6.1 lets the client retry, so a duplicate of those is the client's doing).

usage: bench/chaos.py [--cli path/to/mailpipeline.dll] [--trials 20] [--messages 500] [--connections 50]
                      [--next-hop] [--drain 300] [--seed N]
Ends with `chaos: T trials, A accepted, L lost, D duplicated`; exit code 0 when L = D = 0. DNS is the NXDOMAIN
resolver of bench/hardening.py (no records: messages route without a DNS rig). Every process is stopped by its PID.
"""
import argparse, collections, json, os, random, signal, smtplib, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hardening import DOMAIN, ROOT, NxDomainResolver, Serve, free_port  # noqa: E402

NEXT_HOP = os.path.join(ROOT, "tests", "MailPipeline.Delivery.Tests", "TestData", "delivery", "nexthop.py")


def message(trial, n):
    mid = f"chaos-{trial}-{n}@example.org"
    body = "".join(f"line {i} of message {n} in trial {trial}\r\n" for i in range(40))
    raw = (f"From: sender{n}@example.org\r\nTo: user@{DOMAIN}\r\nSubject: chaos {trial}/{n}\r\n"
           f"Message-ID: <{mid}>\r\n\r\n{body}")
    return mid, raw.encode()


def push(port, source, trial, numbers, accepted, lock):
    """One SMTP session sending its messages in turn; a 250 records (Message-ID -> queue id)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=120, local_hostname="client.example.org", source_address=(source, 0)) as s:
            s.ehlo()
            for n in numbers:
                mid, raw = message(trial, n)
                s.mail(f"sender{n}@example.org")
                s.rcpt(f"user@{DOMAIN}")
                code, text = s.data(raw)
                if code == 250:
                    with lock:
                        accepted[mid] = text.decode(errors="replace").split()[-1]
    except (smtplib.SMTPException, OSError):
        pass  # the kill (or a 4xx): whatever had no 250 is the client's to retry


def header_message_id(path):
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError:
        return None
    for line in head.split(b"\n"):
        if not line.strip():
            return None
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().strip(b"<>").decode(errors="replace")
    return None


def routed(data, trial):
    """Message-ID -> [(folder, queue id)] of this trial's messages fully routed (document and message)."""
    found = collections.defaultdict(list)
    prefix = f"chaos-{trial}-"
    for folder in ("deliver", "quarantine"):
        path = os.path.join(data, folder)
        if not os.path.isdir(path):
            continue
        names = set(os.listdir(path))
        for name in names:
            if name.endswith(".eml") and name[:-4] + ".json" in names:
                mid = header_message_id(os.path.join(path, name))
                if mid and mid.startswith(prefix):
                    found[mid].append((folder, name[:-4]))
    return found


def received(sink, trial, cache, first=None):
    """Message-ID -> how many times the next hop received it (this trial's messages); first: Message-ID -> earliest arrival."""
    counts = collections.Counter()
    for name in os.listdir(sink):
        if name.endswith(".eml"):
            path = os.path.join(sink, name)
            if path not in cache:
                cache[path] = (header_message_id(path), os.stat(path).st_mtime)
            mid, at = cache[path]
            if mid and mid.startswith(f"chaos-{trial}-"):
                counts[mid] += 1
                if first is not None:
                    first[mid] = min(first.get(mid, at), at)
    return counts


def recorded_acceptances(data):
    """Queue ids whose delivery state (data/delivery/) records the next hop's acceptance: what a restart must not resend."""
    done = set()
    for folder in ("pending", "delivered"):
        path = os.path.join(data, "delivery", folder)
        for name in os.listdir(path) if os.path.isdir(path) else ():
            try:
                with open(os.path.join(path, name)) as f:
                    state = json.load(f)
            except (OSError, ValueError):
                continue
            if folder == "delivered" or any(r.get("status") == "accepted" for r in state.get("recipients", [])):
                done.add(name[:-5])
    return done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--next-hop", action="store_true")
    ap.add_argument("--drain", type=float, default=300)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    cli = args.cli or next(p for p in (os.path.join(ROOT, "src/MailPipeline.Cli/bin", c, "net10.0/mailpipeline.dll") for c in ("Release", "Debug")) if os.path.exists(p))
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="chaos-")
    data = os.path.join(work, "data")
    print(f"chaos: work {work}, seed {seed}, {args.trials} trials x {args.messages} messages over {args.connections} sessions"
          f"{', next hop' if args.next_hop else ''}; load average {os.getloadavg()[0]:.1f}", flush=True)
    dns = NxDomainResolver()
    dns.start()
    hop, extra, sink, seen = None, (), None, {}
    if args.next_hop:
        sink = os.path.join(work, "next-hop")
        os.makedirs(sink)
        hop_port = free_port()
        hop = subprocess.Popen(["/usr/bin/python3", NEXT_HOP, "--out", sink, "--port", str(hop_port)],
                               stdout=subprocess.PIPE, stdin=subprocess.PIPE, stderr=open(os.path.join(work, "next-hop.log"), "w"))
        if hop.stdout.readline().strip() != b"ready":
            raise SystemExit("the next hop did not start")
        extra = ("--next-hop", f"smtp://127.0.0.1:{hop_port}")
    serve = Serve(cli, data, dns.port, extra=extra)
    totals, per_trial = collections.Counter(), []
    try:
        for trial in range(1, args.trials + 1):
            accepted, lock = {}, threading.Lock()
            kill_after = rng.randint(1, max(1, args.messages * 9 // 10))
            jitter = rng.random() * 0.1
            shares = [list(range(c, args.messages, args.connections)) for c in range(args.connections)]
            # Sessions come from 127.0.0.2, .3, ... ten each: Edge:MaxSessionsPerIp (20) stays out of the way.
            clients = [threading.Thread(target=push, args=(serve.smtp_port, f"127.0.0.{2 + c // 10}", trial, share, accepted, lock), daemon=True)
                       for c, share in enumerate(shares)]
            started = time.time()
            for c in clients:
                c.start()
            while len(accepted) < kill_after and any(c.is_alive() for c in clients):
                time.sleep(0.005)
            time.sleep(jitter)
            os.kill(serve.proc.pid, signal.SIGKILL)
            killed = time.time()
            serve.proc.wait()
            recorded = recorded_acceptances(data) if sink else set()
            killed_at = len(accepted)
            for c in clients:
                c.join(150)
            with lock:
                accepted = dict(accepted)
            took = time.time() - started
            restart = time.time()
            serve = Serve(cli, data, dns.port, extra=extra)
            restarted = time.time() - restart
            deadline = time.time() + args.drain
            while True:
                found = routed(data, trial)
                missing = [m for m in accepted if m not in found]
                undelivered = []
                if sink:
                    counts = received(sink, trial, seen)
                    undelivered = [m for m in accepted if m in found and any(f == "deliver" for f, _ in found[m]) and counts[m] == 0]
                if (not missing and not undelivered) or time.time() > deadline:
                    break
                time.sleep(0.5)
            dup_routed = [m for m, places in found.items() if len(places) > 1]
            first = {}
            dup_received = [m for m, k in (received(sink, trial, seen, first).items() if sink else ()) if k > 1]
            # A next-hop duplicate is ours to fix when its acceptance had been recorded before the kill; otherwise the
            # kill fell between the next hop taking it and our durable record (RFC 5321 §6.1 / RFC 1047: resend).
            resent_after_record = [m for m in dup_received if any(q in recorded for _, q in found.get(m, []))]
            # The next hop may finish writing a message whose DATA it had whole just after the sender died: any first
            # copy from before the restart was sent by the killed process.
            twice_after_restart = [m for m in dup_received if m not in resent_after_record and first[m] >= restart]
            window = [killed - first[m] for m in dup_received if m not in resent_after_record and first[m] < restart]
            totals.update(window=len(window), resent_after_record=len(resent_after_record), twice_after_restart=len(twice_after_restart))
            lost = len(missing) + len(undelivered)
            per_trial.append(set(dup_routed) | set(dup_received))
            duplicated = len(per_trial[-1])
            unacknowledged = len([m for m in found if m not in accepted])
            totals.update(accepted=len(accepted), lost=lost, duplicated=duplicated, unacknowledged=unacknowledged)
            print(f"trial {trial:2}: kill -9 after {killed_at} x 250 ({took:.1f} s in); {len(accepted)} accepted, restart {restarted:.1f} s, "
                  f"drained {time.time() - restart:.1f} s: routed {len(accepted) - len(missing)}, lost {lost}, duplicated {duplicated}, "
                  f"stored without a 250 {unacknowledged}"
                  + (f"; next hop got {len(window)} again whose acceptance the kill beat"
                     + (f" (its first copy {min(window) * 1000:.0f} to {max(window) * 1000:.0f} ms before the kill)" if window else "")
                     + f", {len(resent_after_record)} resent after a recorded acceptance, {len(twice_after_restart)} sent twice after the restart" if sink else ""), flush=True)
            for m in missing[:5]:
                print(f"  lost (not routed): {m} queued as {accepted[m]}", flush=True)
            for m in undelivered[:5]:
                print(f"  lost (routed to deliver, never at the next hop): {m} queued as {accepted[m]}", flush=True)
            for m in (dup_routed + dup_received)[:5]:
                print(f"  duplicated: {m}: {found.get(m)}", flush=True)
        # A copy routed or delivered again after its trial's drain (a late redrive) is a duplicate too.
        late = 0
        for trial, reported in enumerate(per_trial, 1):
            now = {m for m, places in routed(data, trial).items() if len(places) > 1}
            if sink:
                now |= {m for m, k in received(sink, trial, seen).items() if k > 1}
            late += len(now - reported)
    finally:
        serve.stop()
        if hop:
            hop.terminate()
            hop.wait(30)
    if sink:
        print(f"next-hop duplicates: {totals['window']} inside the window between the next hop's reply and our durable record "
              f"(the kill beat the record), {totals['resent_after_record']} resent although the acceptance was recorded, "
              f"{totals['twice_after_restart']} sent twice after a restart", flush=True)
    print(f"stored without a 250 (client saw the kill, may retry): {totals['unacknowledged']}; "
          f"duplicates found by a last recount over all trials: {late}; load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"chaos: {args.trials} trials, {totals['accepted']} accepted, {totals['lost']} lost, {totals['duplicated'] + late} duplicated", flush=True)
    return 0 if totals["lost"] == 0 and totals["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
