#!/usr/bin/env python3
"""Builds the fuzz seed corpora (corpus/<target>/) and the harness's fixed data (data/) from the conformance suites.

Run once by hand when the suites or the targets change; the output is committed (CI does not run this). Sources are
listed in corpus/SOURCES.md. Usage: make-corpus.py [SUITES_DIR]   (default /work/shared/suites)
"""
import hashlib
import os
import re
import sys

import yaml

SUITES = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/suites"
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
DATA = os.path.join(HERE, "data")
MAX_SEEDS = {"dkim-tags": 200, "spf": 200}  # per target; 120 elsewhere
MAX_BYTES = 8192


def crlf(text):
    return re.sub(r"\r?\n", "\r\n", text)


def write(target, name, content, seen={}):
    data = content.encode("utf-8") if isinstance(content, str) else content
    if len(data) > MAX_BYTES:
        return
    digest = hashlib.sha1(data).hexdigest()[:12]
    key = (target, digest)
    if key in seen:
        return
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if len(os.listdir(folder)) >= MAX_SEEDS.get(target, 120):
        return
    seen[key] = True
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
    with open(os.path.join(folder, f"{safe}-{digest}"), "wb") as f:
        f.write(data)


def read(*path):
    with open(os.path.join(SUITES, *path), "rb") as f:
        return f.read()


def header_fields(message):
    """(name, raw field incl. folding) of a message's header block."""
    text = message.decode("utf-8", "replace").replace("\r\n", "\n")
    head = text.split("\n\n", 1)[0]
    fields = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += "\r\n" + line
        elif ":" in line:
            fields.append([line.split(":", 1)[0], line])
    return fields


# --- messages: mail-dkim corpus, dkimpy, authheaders, ARC suite -------------------------------------------------
messages = []
corpus_dir = os.path.join(SUITES, "dkim", "mail-dkim", "corpus")
for name in sorted(os.listdir(corpus_dir)):
    messages.append(("mail-dkim-" + name, read("dkim", "mail-dkim", "corpus", name)))
for name in ["rfc6376.signed.msg", "ed25519test.msg", "test.message", "test2.message", "test_extra.message", "test_nofrom.message"]:
    messages.append(("dkimpy-" + name, crlf(read("dkim", "dkimpy", name).decode()).encode()))
auth_dir = os.path.join(SUITES, "dmarc", "authheaders-messages")
for name in sorted(os.listdir(auth_dir)):
    if name.startswith("test.message"):
        messages.append(("authheaders-" + name, crlf(read("dmarc", "authheaders-messages", name).decode()).encode()))
arc_docs = list(yaml.safe_load_all(read("arc", "arc-draft-validation-tests.yml")))
arc_records = {}
for doc in arc_docs:
    for record, value in (doc.get("txt-records") or {}).items():
        arc_records[record] = " ".join(str(value).split())
    for test, case in doc["tests"].items():
        messages.append(("arc-" + test, crlf(case["message"]).encode()))

for name, message in messages:
    write("message", name, message)
    write("headers", name, bytes([len(name) % 17]) + message)
    for field, raw in header_fields(message):
        lower = field.lower()
        if lower in ("dkim-signature", "arc-seal", "arc-message-signature"):
            write("dkim-tags", f"{lower}-{name}", raw.split(":", 1)[1])
        if lower in ("authentication-results", "arc-authentication-results"):
            write("auth-results", name, "".join(f + "\r\n" for _, f in header_fields(message)) + "\r\n")

# --- DNS: key records (FAKE_DNS, dkimpy, ARC suite) --------------------------------------------------------------
zone_lines = []
for line in read("dkim", "mail-dkim", "FAKE_DNS.dat").decode().splitlines():
    if not line or line.startswith("#"):
        continue
    name, value = re.split(r"[ \t]+", line, 1)
    if value == "NXDOMAIN":
        continue
    if value.startswith("~~"):
        zone_lines.append(f"{name} {'TIMEOUT' if 'timed out' in value.lower() else 'SERVFAIL'}")
        continue
    zone_lines.append(f"{name} TXT {value}")
    write("dkim-tags", "key-" + name, value)
for name in ["test.txt", "test2.txt", "badk.txt", "badversion.txt", "ed25519test.dns", "test_tlsrpt.txt", "test_bad.txt"]:
    write("dkim-tags", "dkimpy-" + name, read("dkim", "dkimpy", name).decode().strip())
for record, value in arc_records.items():
    zone_lines.append(f"{record} TXT {value}")
    write("dkim-tags", "arc-key-" + record, value)
rfc8463 = yaml.safe_load(read("dkim", "rfc", "rfc8463-appendix-a.yml"))
for record, value in rfc8463["txt_records"].items():
    zone_lines.append(f"{record} TXT {value}")

# The message target's fixed zone: every key above, plus SPF/DMARC/iprev for the envelope and the corpus domains.
base = [
    "example.com TXT v=spf1 ip4:192.0.2.0/24 include:_spf.example.org -all",
    "_spf.example.org TXT v=spf1 a:mail.example.org ~all",
    "mail.example.org A 198.51.100.7",
    "_dmarc.example.com TXT v=DMARC1; p=reject; rua=mailto:dmarc@example.com",
    "_dmarc.example.org TXT v=DMARC1; p=quarantine; sp=none; adkim=s; aspf=s",
    "_dmarc.football.example.com TXT v=DMARC1; p=reject; np=reject",
    "_dmarc.messiah.edu TXT v=DMARC1; p=none",
    "10.2.0.192.in-addr.arpa PTR mail.example.com",
    "mail.example.com A 192.0.2.10",
    "10.2.0.192.bl.test A 127.0.0.2",
    "10.2.0.192.bl.test TXT listed for fuzzing",
]
os.makedirs(DATA, exist_ok=True)
with open(os.path.join(DATA, "message.zone"), "w") as f:
    f.write("# built by make-corpus.py: keys from mail-dkim FAKE_DNS.dat, the ARC suite and RFC 8463, plus SPF/DMARC/iprev\n")
    f.write("\n".join(base + zone_lines) + "\n")

# --- dns-answers: the RFC 8463 signed message against zones the fuzzer rewrites ----------------------------------
with open(os.path.join(DATA, "dns-answers.eml"), "wb") as f:
    f.write(crlf(read("dkim", "dkimpy", "rfc6376.signed.msg").decode()).encode())
football = [f"{r} TXT {v}" for r, v in rfc8463["txt_records"].items()] + [
    "football.example.com TXT v=spf1 ip4:192.0.2.10 -all",
    "_dmarc.football.example.com TXT v=DMARC1; p=reject",
    "10.2.0.192.in-addr.arpa PTR mail.football.example.com",
    "mail.football.example.com A 192.0.2.10",
]
write("dns-answers", "rfc8463-pass", "\n".join(football) + "\n")
write("dns-answers", "listed", "\n".join(football + ["10.2.0.192.bl.test A 127.0.0.2", "football.example.com.dbl.test A 127.0.1.2", "10.2.0.192.wl.test A 127.0.0.1"]) + "\n")
write("dns-answers", "failures", "\n".join(football[:2] + ["football.example.com SERVFAIL", "_dmarc.football.example.com TIMEOUT", "10.2.0.192.in-addr.arpa MALFORMED"]) + "\n")
write("dns-answers", "psd-walk", "\n".join(football[:2] + ["_dmarc.example.com TXT v=DMARC1; p=quarantine; psd=n", "_dmarc.com TXT v=DMARC1; p=reject; psd=y", "football.example.com EMPTY", "football.example.com MX 10 mail.football.example.com"]) + "\n")

# --- SPF: every record (and every zone, retargeted at football.example.com) of the openspf suites ------------------
for suite in ["rfc7208-tests.yml", "rfc4408-tests.yml"]:
    for doc in yaml.safe_load_all(read("spf", suite)):
        for name, records in (doc.get("zonedata") or {}).items():
            for record in records or []:
                if isinstance(record, dict):
                    for kind, value in record.items():
                        if kind in ("TXT", "SPF"):
                            text = "".join(value) if isinstance(value, list) else str(value)
                            write("spf", f"{suite[:7]}-{name}", text)
                            if text.lower().startswith("v=spf1"):
                                write("dns-answers", f"spf-{suite[:7]}-{name}", "\n".join(football[:2] + [f"football.example.com TXT {text}"] + football[3:]) + "\n")

# --- DMARC records --------------------------------------------------------------------------------------------------
dmarc_docs = list(yaml.safe_load_all(read("dmarc", "dmarc-cases.yml")))
for doc in dmarc_docs:
    for case in doc.get("cases") or []:
        if isinstance(case, dict) and "record" in case:
            write("dmarc-record", doc["section"], str(case["record"]))
    for kind in ("valid", "invalid"):
        for tag, values in (doc.get(kind) or {}).items():
            for value in values:
                write("dmarc-record", f"{kind}-{tag}", f"v=DMARC1; p=none; {tag}={value}")
    for line in doc.get("zone") or []:
        m = re.match(r'(\S+)\s+TXT\s+"(.*)"$', line)
        if m and m.group(2).startswith("v=DMARC1"):
            write("dmarc-record", "zone-" + m.group(1), m.group(2))

# --- Authentication-Results: forged and foreign fields around our authserv-id ------------------------------------------
for i, value in enumerate([
    "mx.ours.test; spf=pass smtp.mailfrom=example.com",
    "MX.OURS.TEST; dkim=pass header.d=example.com",
    "(comment) mx.ours.test (another) 1; dmarc=pass",
    '"mx.ours.test"; none',
    "mx.ours.test",
    "other.example; spf=fail",
    "mx.ours.test.evil.example; spf=pass",
    " \r\n\tmx.ours.test;\r\n\tdkim=pass",
]):
    write("auth-results", f"synthetic-{i}", f"Received: from a by b\r\nAuthentication-Results: {value}\r\nFrom: a@example.com\r\n\r\nbody\r\n")
    write("auth-results", f"synthetic-lf-{i}", f"Authentication-Results: {value}\nSubject: x\n\n")

# --- SMTP sessions ---------------------------------------------------------------------------------------------------
def session(*commands, data=None):
    out = "".join(c + "\r\n" for c in commands)
    if data is not None:
        out += "DATA\r\n" + data + "\r\n.\r\nQUIT\r\n"
    return out

body = "From: a@example.com\r\nTo: postmaster@ours.test\r\nSubject: hi\r\n\r\nhello\r\n..dot-stuffed\r\n"
write("smtp", "basic", session("EHLO client.example", "MAIL FROM:<a@example.com>", "RCPT TO:<postmaster@ours.test>", data=body))
write("smtp", "helo", session("HELO client.example", "MAIL FROM:<>", "RCPT TO:<postmaster@ours.test>", data=body))
write("smtp", "params", session("EHLO c", "MAIL FROM:<a@example.com> SIZE=100 BODY=8BITMIME SMTPUTF8", "RCPT TO:<user@bücher.test>", "RCPT TO:<x@elsewhere.test>", data=body))
write("smtp", "sequence", session("MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "EHLO c", "RSET", "NOOP", "VRFY postmaster", "HELP", "BDAT 10 LAST", "QUIT"))
write("smtp", "pipelined", "EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<postmaster@ours.test>\r\nDATA\r\n" + body + ".\r\nMAIL FROM:<b@example.com>\r\nRCPT TO:<postmaster@ours.test>\r\nDATA\r\n" + body + ".\r\nQUIT\r\n")
write("smtp", "bare-lf", "EHLO c\nMAIL FROM:<a@example.com>\nRCPT TO:<postmaster@ours.test>\nDATA\nSubject: x\n\nbody\n.\n\r\n.\r\nQUIT\n")
write("smtp", "smuggle", session("EHLO c", "MAIL FROM:<a@example.com>", "RCPT TO:<postmaster@ours.test>", data="Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@example.com>\r\n"))
write("smtp", "garbage", "\x00\xff\r\n\x16\x03\x01\x00\x05hello\r\nSTARTTLS\r\nAUTH PLAIN AGFAYg==\r\n" + "A" * 3000 + "\r\n")
write("smtp", "long-header", session("EHLO c", "MAIL FROM:<a@example.com>", "RCPT TO:<postmaster@ours.test>", data="Subject: " + "x" * 1200 + "\r\n\r\nbody"))
write("smtp", "many-received", session("EHLO c", "MAIL FROM:<a@example.com>", "RCPT TO:<postmaster@ours.test>", data="Received: x\r\n" * 120 + "\r\nbody"))
write("smtp", "idn-ehlo", session("EHLO bücher.test", "MAIL FROM:<ü@bücher.test> SMTPUTF8", "RCPT TO:<postmaster@bücher.test>", data=body))
for name, message in messages[:12]:
    write("smtp", "message-" + name, session("EHLO c", "MAIL FROM:<a@example.com>", "RCPT TO:<postmaster@ours.test>") + "DATA\r\n" + message.decode("utf-8", "replace").replace("\r\n.", "\r\n..") + "\r\n.\r\nQUIT\r\n")

write("smtp", "xclient", session("EHLO c", "XCLIENT ADDR=192.0.2.7 NAME=mail.example.com HELO=mail.example.com", "EHLO c", "MAIL FROM:<a@example.com>", "RCPT TO:<postmaster@ours.test>", data=body))
write("smtp", "xforward", session("EHLO c", "XFORWARD ADDR=IPV6:2001:db8::1 PORT=25 PROTO=ESMTP HELO=h SOURCE=REMOTE IDENT=x", "MAIL FROM:<a@example.com>", "RCPT TO:<postmaster@ours.test>", data=body))

# --- client address: PROXY v1/v2 headers, XCLIENT/XFORWARD lines ---------------------------------------------------
import struct
def proxy_v2(command, family, payload, tlvs=b""):
    body = payload + tlvs
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x20 | command, family]) + struct.pack(">H", len(body)) + body
v4 = bytes([192, 0, 2, 7, 127, 0, 0, 1]) + struct.pack(">HH", 40000, 25)
v6 = bytes(16) + bytes(15) + b"\x01" + struct.pack(">HH", 40000, 25)
for name, header in [
    ("v1-tcp4", b"PROXY TCP4 192.0.2.7 127.0.0.1 40000 25\r\nEHLO c\r\n"),
    ("v1-tcp6", b"PROXY TCP6 2001:db8::7 ::1 40000 25\r\n"),
    ("v1-unknown", b"PROXY UNKNOWN\r\n"),
    ("v1-unknown-long", b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"),
    ("v2-tcp4", proxy_v2(1, 0x11, v4)),
    ("v2-tcp6", proxy_v2(1, 0x21, v6)),
    ("v2-local", proxy_v2(0, 0x00, b"")),
    ("v2-unix", proxy_v2(1, 0x31, bytes(216))),
    ("v2-tlvs", proxy_v2(1, 0x11, v4, b"\x01\x00\x02h2" + b"\x02\x00\x0bexample.com" + b"\x04\x00\x00")),
    ("v2-crc", proxy_v2(1, 0x11, v4, b"\x03\x00\x04\x00\x00\x00\x00")),
]:
    write("client-address", "proxy-" + name, header)
for name, lines in [
    ("xclient", "XCLIENT ADDR=192.0.2.7 NAME=mail.example.com PORT=40000 PROTO=ESMTP HELO=mail.example.com LOGIN=x DESTADDR=127.0.0.1 DESTPORT=25"),
    ("xclient-v6", "XCLIENT ADDR=IPV6:2001:db8::7 NAME=[UNAVAILABLE]\r\nXCLIENT ADDR=[TEMPUNAVAIL]"),
    ("xclient-xtext", "XCLIENT HELO=a+2Bb+20c NAME=x+3D"),
    ("xforward", "XFORWARD ADDR=192.0.2.7 NAME=mail.example.com PORT=25 PROTO=SMTP HELO=h IDENT=abc SOURCE=LOCAL\nXFORWARD ADDR=[UNAVAILABLE]"),
]:
    write("client-address", name, lines)

# --- configuration ---------------------------------------------------------------------------------------------------
sample = os.path.join(HERE, "..", "..", "mailpipeline.sample.json")
if os.path.exists(sample):
    write("config", "mailpipeline.sample.json", open(sample, "rb").read())
write("config", "minimal", "{}")
write("config", "zones", '{"Reputation":{"Zones":[{"Zone":"zen.example","Kind":"Block","Type":"Ip","Codes":[{"Code":"127.0.0.2","Meaning":"x"}]}],"BlockThreshold":2.5},"Dns":{"Servers":["127.0.0.1:53","[::1]:5353"],"QueryTimeout":"00:00:02"}}')
write("config", "verdict", '{"Verdict":{"ActionWhenTempErrorPersists":"Deliver","MaxTempErrorAttempts":3},"Dmarc":{"OrganizationalDomain":"Psl","MaxHeaderBlockBytes":65536},"Spf":{"MaxDnsLookups":10}}')
write("config", "edge", '{"Edge":{"ListenAddress":"::","Port":25,"AcceptedDomains":["a.test"],"MaxMessageSize":1048576,"CommandTimeout":"00:05:00"},"Pipeline":{"MaxConcurrency":4}}')
print({t: len(os.listdir(os.path.join(CORPUS, t))) for t in sorted(os.listdir(CORPUS)) if os.path.isdir(os.path.join(CORPUS, t))})
