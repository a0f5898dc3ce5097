"""verify_receipt(): checks a receipt's Ed25519 signature the way cscd signs
it (spec §6): the payload is the canonical JSON of the whole receipt with
only signature.signature removed. Uses the `cryptography` package when it is
importable, else runs `cscctl verify-receipt`."""
import base64
import copy
import json
import os
import shutil
import subprocess
import tempfile


def canonical_json(value) -> bytes:
    """Canonical JSON (spec §4): sorted keys, no whitespace, literal UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _key_bytes(public_key):
    if isinstance(public_key, (bytes, bytearray)) and len(public_key) == 32:
        return bytes(public_key)
    if isinstance(public_key, str) and not os.path.exists(public_key):
        raw = base64.b64decode(public_key, validate=True)     # as pubkeys() gives it
    else:
        with open(public_key, "rb") as f:                      # a 32-byte .pub file
            raw = f.read()
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes, got %d" % len(raw))
    return raw


def verify_receipt(receipt: dict, public_key, key_id=None, use_cryptography=None, cscctl="cscctl"):
    """(True, "VALID") or (False, reason). public_key: 32 raw bytes, a .pub file path, or base64
    (as Client.pubkeys() returns it). key_id: when given, the receipt must name it.
    use_cryptography: None picks cryptography if importable; False forces cscctl."""
    sig = receipt.get("signature")
    if not isinstance(sig, dict):
        return False, "missing signature"
    if sig.get("algorithm") != "ed25519":
        return False, "algorithm is not ed25519"
    if key_id is not None and sig.get("key_id") != key_id:
        return False, "unknown key_id %r" % sig.get("key_id")
    key = _key_bytes(public_key)
    if use_cryptography is None:
        try:
            import cryptography  # noqa: F401
            use_cryptography = True
        except ImportError:
            use_cryptography = False
    if use_cryptography:
        return _verify_cryptography(receipt, sig, key)
    return _verify_cscctl(receipt, key, sig.get("key_id"), cscctl)


def _verify_cryptography(receipt, sig, key):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        value = base64.b64decode(sig.get("signature", ""), validate=True)
    except ValueError:
        return False, "bad base64 in the signature"
    payload = copy.deepcopy(receipt)
    payload["signature"].pop("signature", None)
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(value, canonical_json(payload))
        return True, "VALID"
    except (InvalidSignature, ValueError):
        return False, "bad signature"


def _verify_cscctl(receipt, key, key_id, cscctl):
    exe = shutil.which(cscctl) or cscctl
    with tempfile.TemporaryDirectory(prefix="cscd-client.") as d:
        rf, kf = os.path.join(d, "receipt.json"), os.path.join(d, "key.pub")
        with open(rf, "wb") as f:
            f.write(canonical_json(receipt))
        with open(kf, "wb") as f:
            f.write(key)
        args = [exe, "verify-receipt", rf, "--public-key", kf] + (["--key-id", key_id] if key_id else [])
        p = subprocess.run(args, capture_output=True, text=True)
    out = (p.stdout or p.stderr).strip()
    if p.returncode == 0:
        return True, "VALID"
    return False, out.split("INVALID: ", 1)[-1] if out else "cscctl verify-receipt failed (%d)" % p.returncode
