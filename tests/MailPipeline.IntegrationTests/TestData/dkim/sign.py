#!/usr/bin/python3
"""Signs a message file with Debian's dkimpy (python3-dkim), as dkimsign does, with the options dkimsign lacks (l=).

usage: sign.py IN OUT SELECTOR DOMAIN KEYFILE HCANON BCANON ALGORITHM LENGTH(0|1)
Writes the DKIM-Signature header field followed by the unchanged input bytes to OUT.
"""
import sys

import dkim

source, target, selector, domain, keyfile, hcanon, bcanon, algorithm, length = sys.argv[1:10]
with open(source, "rb") as f:
    message = f.read()
with open(keyfile, "rb") as f:
    key = f.read()
signature = dkim.sign(
    message,
    selector.encode(),
    domain.encode(),
    key,
    canonicalize=(hcanon.encode(), bcanon.encode()),
    signature_algorithm=algorithm.encode(),
    length=length == "1",
)
if not signature:
    sys.exit("dkimpy produced no signature")
with open(target, "wb") as f:
    f.write(signature + message)
