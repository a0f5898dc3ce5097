#!/usr/bin/env python3
"""Privilege separation, proven against the real cscd.

1. Each connection's session (cscd-session) runs as the peer: its uid and
   gid, no capability in any set (bounding set included), no_new_privs, a
   seccomp filter, and a fresh image (none of the monitor's libraries). A
   killed session ends its own connection only, with a receipt.
2. A hostile session: cscd.conf `session_program` points at
   hostile_session.py, which speaks the monitor protocol directly, as a
   session taken over by its peer would. The monitor ends the connection on
   every malformed message and keeps serving; acts on nothing after a
   refusal; runs commands only as the peer whatever the request claims;
   signs receipts only for the contract it decoded and hashed itself; and
   decides again with its own policy (a forged decision is ignored).

usage: test_session.py HOSTILE_SESSION_PY"""
import base64, hashlib, json, os, shutil, signal, struct, sys, time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "client", "python"))
from cscproto import Conn, Daemon, Tally, contract, ensure_user, mkwork, output_of  # noqa: E402
from cscd_client.receipt import canonical_json  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the session tests need root (they act as a real user)")
    sys.exit(77)
UID, GID = ensure_user("csc-test")
ROLES = "submit_users: [csc-test]"

# ---- the monitor protocol, as daemon/mon_proto.h and common/json_wire.c define it ----
BEGIN, REQUEST, REFUSE = 1, 2, 3
REQ = {"submit": 1, "check": 2, "status": 3, "reload": 4, "pubkeys": 5, "policy": 6}


def u32(n):
    return struct.pack("=I", n)


def tree(v):
    if v is None:
        return b"\x01"
    if v is False:
        return b"\x02"
    if v is True:
        return b"\x03"
    if isinstance(v, int):
        if -2**63 <= v < 2**63:
            return b"\x04" + struct.pack("=q", v)
        t = str(v).encode()
        return b"\x05" + u32(len(t)) + t
    if isinstance(v, float):
        return b"\x06" + struct.pack("=d", v)
    if isinstance(v, str):
        b = v.encode()
        return b"\x07" + u32(len(b)) + b
    if isinstance(v, list):
        return b"\x08" + u32(len(v)) + b"".join(tree(x) for x in v)
    out = b"\x09" + u32(len(v))
    for k, x in v.items():
        kb = k.encode()
        out += u32(len(kb)) + kb + tree(x)
    return out


def msg(kind, body=b"", arg=0):
    return struct.pack("=III", kind, len(body), arg) + body


def request(obj, kind=None):
    return msg(REQUEST, u32(100) + tree(obj), REQ[kind or obj["type"]])


def refuse(code, message, path=""):
    m, p = message.encode(), path.encode()
    return msg(REFUSE, u32(len(m)) + m + u32(len(p)) + p, code)


def hostile(d, steps, timeout=30):
    """Connects as csc-test and has the hostile session play steps; returns the connection."""
    c = Conn(d.sock, UID, GID, timeout=timeout)
    line = {"steps": [{"send": base64.b64encode(s).decode()} if isinstance(s, bytes) else {"wait_for": s}
                      for s in steps]}
    c.send_raw(json.dumps(line).encode() + b"\n")
    return c


def frames_until_close(c):
    out = []
    while True:
        try:
            out.append(c.recv())
        except (EOFError, ConnectionResetError):
            return out


def contract_sha256(ct):
    ct = dict(ct)
    ct.setdefault("expected_outputs", [])
    return hashlib.sha256(canonical_json(ct)).hexdigest()


# ---- 1. the real session ----

def children(pid, comm):
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                st = f.read()
            with open("/proc/%s/comm" % p) as f:
                name = f.read().strip()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        if ppid == pid and name == comm:
            found.append(int(p))
    return found


def status_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def session_of(d, uid, before=()):
    for _ in range(200):
        for p in children(d.proc.pid, "cscd-session"):
            if p not in before and status_of(p)["Uid"].split()[0] == str(uid):
                return p
        time.sleep(0.02)
    raise AssertionError("no cscd-session of uid %d under cscd" % uid)


def session_runs_as_the_peer_with_nothing(d):
    before = children(d.proc.pid, "cscd-session")
    c = Conn(d.sock, UID, GID)
    pid = session_of(d, UID, before)
    # A reply means the session has read a request: its filter is in place by then.
    c.send({"type": "status"})
    assert c.recv()["type"] == "status"
    st = status_of(pid)
    assert st["Uid"].split() == [str(UID)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(GID)] * 4, st["Gid"]
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[k], 16) == 0, (k, st[k])
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", (st["NoNewPrivs"], st["Seccomp"])
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    # A fresh image: a fork of the monitor would still map these.
    for lib in ("libsqlite3", "libsystemd", "libfyaml", "libcap."):
        assert lib not in maps, "the session maps %s: not a fresh image" % lib
    assert os.readlink("/proc/%d/exe" % pid).endswith("/cscd-session"), os.readlink("/proc/%d/exe" % pid)
    # Only its two sockets (and the standard descriptors it inherited).
    fds = sorted(int(x) for x in os.listdir("/proc/%d/fd" % pid))
    assert fds == [0, 1, 2, 3, 4], fds
    c.close()
    print("# session pid %d: uid %s, caps all 0, NoNewPrivs 1, Seccomp 2, fds %s" % (pid, UID, fds))


def root_session_has_no_capabilities(d):
    before = children(d.proc.pid, "cscd-session")
    c = Conn(d.sock)
    pid = session_of(d, 0, before)
    c.send({"type": "pubkeys"})
    assert c.recv()["type"] == "pubkeys"
    st = status_of(pid)
    for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[k], 16) == 0, (k, st[k])
    assert st["Seccomp"] == "2", st["Seccomp"]
    c.close()


def killed_session_ends_its_own_connection_with_a_receipt(d):
    before = children(d.proc.pid, "cscd-session")
    n = len(d.receipts())
    c = Conn(d.sock, UID, GID)
    pid = session_of(d, UID, before)
    c.send({"type": "submit", "contract": contract([{"argv": ["sleep", "30"], "timeout": 60}], cid="kill-session-1")})
    while c.recv()["type"] != "started":
        pass
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        if len(d.receipts()) > n:
            break
        time.sleep(0.05)
    r = d.receipts()[-1]["receipt"]
    # As when the client itself disconnects: the command is killed, the receipt says why.
    assert r["contract_id"] == "kill-session-1" and r["status"] == "failed" and "cancelled" in r["error"], r
    c2 = Conn(d.sock, UID, GID)
    c2.send({"type": "status"})
    assert c2.recv()["type"] == "status"
    c2.close()
    c.close()


# ---- 2. a hostile session ----

def malformed(d):
    ok_status = request({"type": "status"})
    cases = [
        ("unknown kind", msg(99)),
        ("kind 0", msg(0)),
        ("FRAME_BEGIN with a body", msg(BEGIN, b"x")),
        ("REQUEST of type 0", msg(REQUEST, u32(100) + tree({}), 0)),
        ("REQUEST of an unknown type", msg(REQUEST, u32(100) + tree({}), 42)),
        ("REQUEST over its bound", struct.pack("=III", REQUEST, 0xFFFFFFF0, REQ["status"])),
        ("REQUEST whose tree ends early", msg(REQUEST, u32(100) + tree({"type": "status"})[:-3], REQ["status"])),
        ("REQUEST with trailing bytes", msg(REQUEST, u32(100) + tree({"type": "status"}) + b"\x01", REQ["status"])),
        ("REQUEST with bad UTF-8", msg(REQUEST, u32(100) + b"\x09" + u32(1) + u32(1) + b"\xff" + b"\x01", 3)),
        ("REQUEST with a duplicate key", msg(REQUEST, u32(100) + b"\x09" + u32(2) + (u32(1) + b"k\x01") * 2, 3)),
        ("REQUEST nested 65 deep", msg(REQUEST, u32(100) + b"\x09" + u32(1) + u32(1) + b"k" +
                                      (b"\x08" + u32(1)) * 65 + b"\x01", 3)),
        ("REQUEST whose count lies", msg(REQUEST, u32(100) + b"\x08" + u32(0x7fffffff) + b"\x01", 3)),
        ("REQUEST that is not an object", msg(REQUEST, u32(100) + tree([1]), 3)),
        ("REQUEST with a NaN", msg(REQUEST, u32(100) + b"\x09" + u32(1) + u32(1) + b"k\x06" +
                                   struct.pack("=d", float("nan")), 3)),
        ("REFUSE with a NUL", msg(REFUSE, u32(3) + b"a\0b" + u32(0), 1)),
        ("REFUSE of an unknown code", refuse(9, "x")),
    ]
    for name, data in cases:
        c = hostile(d, [data + ok_status])
        got = frames_until_close(c)
        c.close()
        # Nothing after the bad message is acted on: not even the good status behind it.
        assert got == [], (name, got)
    log = d.logtext()
    assert log.count("its session sent a malformed message") >= len(cases), log[-2000:]
    # And the monitor serves the next connection.
    c = hostile(d, [ok_status])
    got = c.recv()
    c.close()
    assert got["type"] == "status", got
    assert d.proc.poll() is None
    print("# %d malformed messages: each connection closed with no reply; cscd still serves" % len(cases))


def nothing_after_a_refusal(d):
    # The refusal's text also tries to forge a line of cscd's log.
    c = hostile(d, [refuse(1, "bad JSON, says the session\n<3>cscd: forged by a session") +
                    request({"type": "status"}) +
                    request({"type": "submit", "contract": contract([{"argv": ["true"]}])})])
    got = frames_until_close(c)
    c.close()
    assert [f["type"] for f in got] == ["error"] and got[0]["code"] == "bad_json", got
    log = d.logtext()
    assert "forged by a session" in log, log[-1000:]
    assert not any(line.startswith("<3>cscd: forged") for line in log.splitlines()), log[-1000:]


def request_during_a_submit_is_refused(d):
    sub = request({"type": "submit", "contract": contract([{"argv": ["sleep", "5"]}], cid="during-1")})
    c = hostile(d, [sub + request({"type": "status"})])
    got = frames_until_close(c)
    c.close()
    types = [f["type"] for f in got]
    assert "status" not in types, types
    errs = [f for f in got if f["type"] == "error"]
    assert errs and errs[-1]["code"] == "bad_frame" and "submit" in errs[-1]["message"], got


def runs_only_as_its_peer(d):
    ct = contract([{"argv": ["id", "-u"]}, {"argv": ["id", "-g"]}], cid="as-peer-1")
    ct["actor"]["initiating_user"] = "root"
    req = {"type": "submit", "contract": ct, "uid": 0, "gid": 0, "peer": {"uid": 0, "user": "root"}}
    c = hostile(d, [request(req)])
    got = frames_until_close(c)
    c.close()
    r = [f for f in got if f["type"] == "receipt"]
    assert r and r[0]["receipt"]["status"] == "success", got
    out = output_of(got)
    assert out == ("%d\n%d\n" % (UID, GID)).encode(), out


def receipt_binds_the_contract_that_ran(d):
    ct = contract([{"argv": ["echo", "mine"]}], cid="bound-0001")
    forged = "0" * 64
    req = {"type": "submit", "contract": ct, "contract_sha256": forged,
           "receipt": {"contract_sha256": forged, "status": "success"}}
    c = hostile(d, [request(req)])
    got = frames_until_close(c)
    c.close()
    recs = [f for f in got if f["type"] == "receipt"]
    assert recs, got
    rec = recs[0]["receipt"]
    assert rec["contract_id"] == "bound-0001"
    assert rec["contract_sha256"] == contract_sha256(ct), (rec["contract_sha256"], contract_sha256(ct))
    path = os.path.join(mkwork("rcpt."), "r.json")
    with open(path, "w") as f:
        json.dump(rec, f)
    import subprocess
    from cscproto import CSCCTL
    p = subprocess.run([CSCCTL, "verify-receipt", path, "--public-key", d.pub], capture_output=True, text=True)
    assert p.returncode == 0, (p.stdout, p.stderr)
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def policy_is_decided_again(d):
    allow = {"decision": "allow", "reasons": [], "risk_class": "low"}
    ct = contract([{"argv": ["python3", "-c", "print(1)"]}], cid="forged-allow-1")
    c = hostile(d, [request({"type": "submit", "contract": ct, "decision": allow, "approved": True})])
    got = frames_until_close(c)
    c.close()
    rec = [f for f in got if f["type"] == "receipt"][0]["receipt"]
    assert rec["status"] == "blocked" and not output_of(got), (rec["status"], got)
    c = hostile(d, [request({"type": "check", "contract": ct, "decision": allow})])
    dec = c.recv()
    c.close()
    assert dec["type"] == "decision" and dec["decision"]["decision"] == "deny", dec
    # A request type the peer's role does not allow.
    c = hostile(d, [request({"type": "reload"})])
    err = c.recv()
    c.close()
    assert err["type"] == "error" and err["code"] == "unauthorized", err
    # A contract the session should have refused is validated again.
    bad = contract([{"argv": ["true"]}])
    del bad["commands"][0]["cwd"]
    c = hostile(d, [request({"type": "submit", "contract": bad})])
    err = c.recv()
    c.close()
    assert err["type"] == "error" and err["code"] == "invalid_contract", err


def unusable_session_program_stops_cscd(t):
    """A session_program that is missing or not executable: cscd refuses to
    start (78, naming it), and `cscd -t` reports it."""
    import subprocess
    from cscproto import CSCD
    work = mkwork("badsession.")
    plain = os.path.join(work, "not-executable")
    with open(plain, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(plain, 0o644)
    try:
        for path in ("/nonexistent/cscd-session", plain):
            d = Daemon(config_extra=ROLES + "\nsession_program: " + path)
            try:
                d.proc.wait(10)
                log = d.logtext()
            finally:
                d.stop()
            t.check(d.returncode == 78 and "session_program " + path in log,
                    "cscd_refuses_to_start_with_session_program_%s" % ("missing" if "nonexistent" in path else
                                                                       "not_executable"), (d.returncode, log[-500:]))
            conf = os.path.join(work, "cscd.conf")
            with open(conf, "w") as f:
                f.write("session_program: %s\n" % path)
            p = subprocess.run([CSCD, "-t", "--config", conf], capture_output=True, text=True)
            t.check(p.returncode == 78 and "session_program" in p.stderr and path in p.stderr,
                    "cscd_t_reports_session_program_%s" % ("missing" if "nonexistent" in path else "not_executable"),
                    (p.returncode, p.stderr[-500:]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    hostile_src = sys.argv[1]
    t = Tally()
    d = Daemon(config_extra=ROLES)
    try:
        t.run("session_runs_as_the_peer_with_nothing", session_runs_as_the_peer_with_nothing, d)
        t.run("root_session_has_no_capabilities", root_session_has_no_capabilities, d)
        t.run("killed_session_ends_its_own_connection_with_a_receipt",
              killed_session_ends_its_own_connection_with_a_receipt, d)
        t.check("signal 31" not in d.logtext(), "no_session_was_killed_by_its_seccomp_filter", d.logtext()[-1500:])
    finally:
        d.stop()
    t.check(d.returncode == 0, "daemon_exits_cleanly", d.final_log[-1500:])

    unusable_session_program_stops_cscd(t)

    work = mkwork("hostile.")
    prog = os.path.join(work, "hostile_session.py")
    shutil.copy(hostile_src, prog)
    os.chmod(prog, 0o755)
    d = Daemon(config_extra=ROLES + "\nsession_program: " + prog)
    try:
        t.run("malformed_messages_end_the_connection_and_cscd_serves_on", malformed, d)
        t.run("nothing_after_a_refusal_is_acted_on", nothing_after_a_refusal, d)
        t.run("a_request_during_a_submit_is_refused", request_during_a_submit_is_refused, d)
        t.run("a_compromised_session_runs_commands_only_as_its_peer", runs_only_as_its_peer, d)
        t.run("receipts_bind_the_contract_the_monitor_hashed", receipt_binds_the_contract_that_ran, d)
        t.run("the_monitor_decides_again_and_ignores_a_forged_decision", policy_is_decided_again, d)
        t.check(d.proc.poll() is None, "cscd_alive_after_the_hostile_session", d.logtext()[-1500:])
    finally:
        d.stop()
        shutil.rmtree(work, ignore_errors=True)
    t.check(d.returncode == 0, "daemon_exits_cleanly_after_the_hostile_session", d.final_log[-1500:])
    print("session: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


main()
