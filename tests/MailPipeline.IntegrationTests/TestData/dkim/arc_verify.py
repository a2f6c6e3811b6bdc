#!/usr/bin/python3
"""Validates a message's ARC chain with Debian's dkimpy (dkim.arc_verify), keys from a given DNS server.

usage: arc_verify.py FILE DNS_HOST DNS_PORT
Prints "cv=<pass|fail|none> instances=<n> <comment>" and exits 0 (whatever the result) or 2 on bad usage.
"""
import sys

import dkim
import dns.resolver

path, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [host]
resolver.port = port


def get_txt(name, timeout=5):
    try:
        answer = resolver.resolve(name.decode().rstrip("."), "TXT", lifetime=timeout)
    except Exception:  # NXDOMAIN, no answer: dkimpy expects None
        return None
    return b"".join(b"".join(r.strings) for r in answer)


with open(path, "rb") as f:
    message = f.read()
cv, results, comment = dkim.arc_verify(message, dnsfunc=get_txt)
print("cv=%s instances=%d %s" % (cv.decode() if cv else "none", len(results), comment))
