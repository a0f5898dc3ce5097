"""test_frames — every kind of frame the real cscd sends (and the requests
a client sends) validates against schemas/frames.schema.json, and frames
that break the schema are rejected by it (so the check can fail).
Prints "frames: N passed, N failed"."""
import json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from cscproto import Daemon, Conn, Tally, contract, ensure_user  # noqa: E402

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed")
    sys.exit(77)


def validator():
    store = {}
    for f in os.listdir(os.path.join(TOP, "schemas")):
        if f.endswith(".schema.json"):
            with open(os.path.join(TOP, "schemas", f)) as fh:
                s = json.load(fh)
            store[s["$id"]] = s
    root = store["https://cscd.dev/schemas/cscd.frames.v0.1.json"]
    resolver = jsonschema.RefResolver.from_schema(root, store=store)
    cls = jsonschema.validators.validator_for(root)

    def v(frame, kind):
        sub = {"$ref": "#/$defs/" + kind}
        errs = list(cls(dict(root, **sub), resolver=resolver).iter_errors(frame))
        return "; ".join(e.message[:200] for e in errs[:3])
    return v


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (starts cscd and a test user)")
        return 77
    v = validator()
    t = Tally()
    uid, gid = ensure_user()
    d = Daemon()
    seen = {}

    def rec(frame, kind="reply"):
        err = v(frame, kind)
        seen.setdefault(frame["type"], []).append(err)
        t.check(not err, "%s frame (%s) matches the schema" % (frame["type"], kind), err + " " + json.dumps(frame)[:300])

    try:
        c = Conn(d.sock, uid, gid)
        req = {"type": "submit", "contract": contract([{"argv": ["sh", "-c", "echo out; echo err >&2; exit 2"], "cwd": "/"}])}
        rec(req, "request")
        c.send(req)
        for f in c.recv_until_receipt():
            f.pop("_t", None)
            rec(f)
        for req in ({"type": "check", "contract": contract([{"argv": ["rm", "x"], "cwd": "/"}])}, {"type": "status"},
                    {"type": "pubkeys"}, {"type": "policy"}):
            rec(req, "request")
            c.send(req)
            rec(c.recv())
        c.send({"type": "check", "contract": {"version": "csc.v0.1"}})
        rec(c.recv())     # error invalid_contract
        c.close()
        c = Conn(d.sock, uid, gid)
        c.send({"type": "reload"})
        rec(c.recv())     # error unauthorized (not an admin)
        c.close()
        c = Conn(d.sock, 0, 0)
        rec({"type": "reload"}, "request")
        c.send({"type": "reload"})
        rec(c.recv())     # reload ok
        c.close()
        c = Conn(d.sock, uid, gid)
        c.send_raw(struct.pack(">I", 3) + b"{x}")
        rec(c.recv())     # error bad_json
        c.close()
        want = {"decision", "started", "output", "exit", "receipt", "error", "status", "pubkeys", "policy", "reload"}
        t.check(want <= set(seen), "every reply type was seen", want - set(seen))
        # The schema can fail: broken frames are rejected.
        bad = [({"type": "output", "command_id": "c", "stream": "stdin", "data": "AA=="}, "reply"),
               ({"type": "exit", "command_id": "c", "exit_code": "0"}, "reply"),
               ({"type": "error", "code": "oops", "message": "m"}, "reply"),
               ({"type": "policy", "policy_profile": "p"}, "reply"),
               ({"type": "submit"}, "request"),
               ({"type": "status", "extra": 1}, "request")]
        for f, kind in bad:
            t.check(bool(v(f, kind)), "a broken %s frame is rejected by the schema" % f["type"])
    finally:
        d.stop()
    print("frames: %d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
