#!/usr/bin/env python3
"""Approvals with the real daemon: consumption in SQLite that survives kill -9
and restarts, concurrent replays, time windows, signed approvals with trusted
approver keys and identities, dual control, and a store that fails closed."""
import json, os, shutil, signal, subprocess, sys, tempfile, threading, time, traceback

sys.path.insert(0, os.path.dirname(__file__))
from cscproto import CSCCTL, TEST_USER, Conn, Daemon, Tally, contract, ensure_user, mkwork, output_of  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the daemon tests need root")
    sys.exit(77)
UID, GID = ensure_user()
OTHER = "csc-test-other"     # a second real user, for approvals that are not bearer tokens
UID2, GID2 = ensure_user(OTHER)
WORK = mkwork("csc-approvals.")
import atexit, shutil as _shutil  # noqa: E401
atexit.register(_shutil.rmtree, WORK, True)
results = []


def case(fn):
    results.append(fn)
    return fn


def cscctl(*args):
    return subprocess.run([CSCCTL, *args], capture_output=True, text=True, timeout=30)


def keygen(name):
    if not os.path.exists(os.path.join(WORK, name + ".key")):
        assert cscctl("keygen", "--key-id", name, "--out-dir", WORK).returncode == 0
    return os.path.join(WORK, name + ".key"), os.path.join(WORK, name + ".pub")


def write_contract(c, name):
    path = os.path.join(WORK, name + ".json")
    with open(path, "w") as f:
        json.dump(c, f)
    return path


def approve(cpath, approver, *extra, key=None):
    args = ["approve", cpath, "--approver", approver, *extra]
    if key:
        args += ["--sign-key", os.path.join(WORK, key + ".key"), "--key-id", key]
    p = cscctl(*args)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def submit(d, c, approvals=(), uid=UID, gid=GID):
    conn = Conn(d.sock, uid, gid)
    conn.send({"type": "submit", "contract": c, "approvals": list(approvals)})
    frames = conn.recv_until_receipt()
    conn.close()
    return frames


def receipt(frames):
    assert frames[-1]["type"] == "receipt", frames[-1]
    return frames[-1]["receipt"]


def human(cid, argv=("echo", "approved run"), mode="human_required", user=TEST_USER, **kw):
    c = contract([{"argv": list(argv), **kw}], cid=cid, mode=mode)
    c["actor"]["initiating_user"] = user   # approval_requires_initiating_user (the default)
    return c


@case
def needs_approval_blocks_without_one_and_runs_with_one_once(d):
    c = human("appr-once-0001")
    r = receipt(submit(d, c))
    assert r["status"] == "blocked" and "no approval was presented" in r["error"], r
    a = approve(write_contract(c, "once"), "alice")
    f = submit(d, c, [a])
    assert receipt(f)["status"] == "success" and output_of(f) == b"approved run\n", f[-1]
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "already used" in r["error"] and a["approval_id"] in r["error"], r
    # the CLI: exit 2 without approval, 0 with a fresh one
    cp = write_contract(c, "once-cli")
    p = cscctl("--socket", d.sock, "check", cp)
    assert p.returncode == 2, p.stdout
    with open(os.path.join(WORK, "fresh.json"), "w") as fh:
        json.dump(approve(cp, "alice"), fh)
    os.chmod(WORK, 0o755)
    for n in os.listdir(WORK):
        os.chmod(os.path.join(WORK, n), 0o644 if not n.endswith(".key") else 0o600)
    p = subprocess.run(["runuser", "-u", "csc-test", "--", CSCCTL, "--socket", d.sock, "submit", cp, "--approval",
                        os.path.join(WORK, "fresh.json"), "--quiet"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "approved run\n", (p.returncode, p.stdout, p.stderr)


@case
def wrong_contract_expired_future_and_malformed_are_refused(d):
    c = human("appr-rules-0001")
    other = write_contract(human("appr-other-0001"), "other")
    a = approve(other, "alice")
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "another contract" in r["error"] and a["approval_id"] in r["error"], r
    cp = write_contract(c, "rules")
    a = approve(cp, "alice", "--expires-in", "1s")
    time.sleep(2.2)
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "expired" in r["error"], r
    a = approve(cp, "alice")
    a["approved_at"] = "2099-01-01T00:00:00Z"
    a["expires_at"] = "2099-01-02T00:00:00Z"
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "future" in r["error"], r
    a = approve(cp, "alice")
    a["expires_at"] = a["approved_at"]
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "expires_at" in r["error"], r
    a = approve(cp, "alice")
    del a["scope"]
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "scope" in r["error"], r
    conn = Conn(d.sock, UID, GID)
    conn.send({"type": "submit", "contract": c, "approvals": {"not": "a list"}})
    f = conn.recv()
    conn.close()
    assert f["type"] == "error" and f["code"] == "invalid_approval", f


@case
def eight_concurrent_replays_run_exactly_once(d):
    c = human("appr-race-0001", argv=("sh", "-c", "sleep 0.3; echo ran"))
    a = approve(write_contract(c, "race"), "alice")
    out = [None] * 8

    def go(i):
        out[i] = receipt(submit(d, c, [a]))["status"]
    ts = [threading.Thread(target=go, args=(i,)) for i in range(8)]
    [t.start() for t in ts]
    [t.join(60) for t in ts]
    assert sorted(out) == ["blocked"] * 7 + ["success"], out


@case
def time_window_is_reusable_until_it_expires(d):
    c = human("appr-window-0001")
    a = approve(write_contract(c, "window"), "alice", "--scope", "time_window", "--expires-in", "3s")
    for _ in range(3):
        assert receipt(submit(d, c, [a]))["status"] == "success"
    st = json.loads(cscctl("--socket", d.sock, "status", "--json").stdout)
    assert st["approval_store"]["healthy"] and st["approval_store"]["time_window_uses"] >= 3, st
    time.sleep(3.2)
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "expired" in r["error"], r


@case
def consumed_approvals_survive_kill_9_and_restart(d):
    c = human("appr-crash-0001", argv=("sleep", "30"))
    a = approve(write_contract(c, "crash"), "alice")
    conn = Conn(d.sock, UID, GID)
    conn.send({"type": "submit", "contract": c, "approvals": [a]})
    while conn.recv()["type"] != "started":   # consumed and committed before this
        pass
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(10)
    conn.close()
    d.restart()
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "already used" in r["error"], r
    assert receipt(submit(d, human("appr-crash-0002"), [approve(write_contract(human("appr-crash-0002"), "c2"), "alice")]))["status"] == "success"


@case
def dual_control_needs_two_distinct_approvers(d):
    c = human("appr-dual-0001", mode="dual_control_required")
    cp = write_contract(c, "dual")
    r = receipt(submit(d, c, [approve(cp, "alice")]))
    assert r["status"] == "blocked" and "two distinct approvers" in r["error"], r
    r = receipt(submit(d, c, [approve(cp, "alice"), approve(cp, "alice")]))
    assert r["status"] == "blocked" and "two distinct approvers" in r["error"], r
    r = receipt(submit(d, c, [approve(cp, "alice"), approve(cp, "bob")]))
    assert r["status"] == "success", r


@case
def approvals_are_bound_to_the_initiating_user(d):
    # The contract names csc-test; another real user presents the approval.
    c = human("appr-bearer-0001")
    a = approve(write_contract(c, "bearer"), "alice")
    r = receipt(submit(d, c, [a], uid=UID2, gid=GID2))
    assert r["status"] == "blocked" and "initiating_user" in r["error"] and "'%s'" % OTHER in r["error"], r
    # ... which spent nothing: the user it names runs it, once.
    f = submit(d, c, [a])
    assert receipt(f)["status"] == "success" and output_of(f) == b"approved run\n", f[-1]
    # A contract that names someone else is refused even with a valid approval for it.
    c = human("appr-bearer-0002", user="root")
    r = receipt(submit(d, c, [approve(write_contract(c, "bearer2"), "alice")]))
    assert r["status"] == "blocked" and "initiating_user" in r["error"], r
    # The other user, naming itself, is approved as usual.
    c = human("appr-bearer-0003", user=OTHER)
    r = receipt(submit(d, c, [approve(write_contract(c, "bearer3"), "alice")], uid=UID2, gid=GID2))
    assert r["status"] == "success", r


def initiating_user_check_can_be_turned_off():
    d = Daemon(config_extra="approval_requires_initiating_user: false")
    try:
        c = human("appr-bearer-off-01", user="someone-else")
        r = receipt(submit(d, c, [approve(write_contract(c, "bearer-off"), "alice")], uid=UID2, gid=GID2))
        assert r["status"] == "success", r
    finally:
        d.stop()
    assert d.returncode == 0, d.final_log[-3000:]


def transient_block_does_not_spend_the_approval():
    # A needs-approval contract names a secret the admin has not created yet:
    # blocked. Once it exists, the same single_execution approval runs it.
    sdir = os.path.join(WORK, "secrets")
    os.mkdir(sdir, 0o700)
    d = Daemon(allow_secrets=True, config_extra="secrets_dir: %s" % sdir)
    try:
        c = human("appr-transient-01", argv=("sh", "-c", "echo ran; cat /run/secrets/later-token"),
                  secrets=["later-token"])
        a = approve(write_contract(c, "transient"), "alice")
        r = receipt(submit(d, c, [a]))
        assert r["status"] == "blocked" and "unknown secret 'later-token'" in r["error"], r
        fd = os.open(os.path.join(sdir, "later-token"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"tok-9f2e41")
        os.close(fd)
        f = submit(d, c, [a])
        assert receipt(f)["status"] == "success", receipt(f)
        assert output_of(f) == b"ran\n***", output_of(f)
        r = receipt(submit(d, c, [a]))
        assert r["status"] == "blocked" and "already used" in r["error"], r
    finally:
        d.stop()
    assert d.returncode == 0, d.final_log[-3000:]


@case
def sandbox_refusal_does_not_spend_the_approval(d):
    # The sandbox refuses a declared path at run time (a symlink on the way):
    # the approval must still be unspent, because it is spent only once the
    # sandbox is built, the moment before the first command starts.
    base = os.path.join(WORK, "later")
    real = os.path.join(WORK, "later-real")
    os.makedirs(real, exist_ok=True)
    os.symlink(real, base)
    c = human("appr-sandbox-01", argv=("ls", base), read=[base])
    a = approve(write_contract(c, "sandbox"), "alice")
    f = submit(d, c, [a])
    r = receipt(f)
    assert r["status"] == "blocked" and "symlink" in r["error"] and not any(x["type"] == "started" for x in f), r
    os.unlink(base)
    os.rename(real, base)
    f = submit(d, c, [a])
    assert receipt(f)["status"] == "success", receipt(f)
    r = receipt(submit(d, c, [a]))
    assert r["status"] == "blocked" and "already used" in r["error"] and "exit_code" not in r, r


def signed_daemon():
    _, apub = keygen("alice")
    _, bpub = keygen("bob")
    keygen("mallory")
    conf = ("approvers: [{identity: alice, key_id: alice, public_key: %s}, "
            "{identity: bob, key_id: bob, public_key: %s}]" % (apub, bpub))
    return Daemon(config_extra_raw=conf)


def signed_cases(d):
    c = human("appr-signed-0001")
    cp = write_contract(c, "signed")
    r = receipt(submit(d, c, [approve(cp, "alice")]))
    assert r["status"] == "blocked" and "not signed" in r["error"], r
    r = receipt(submit(d, c, [approve(cp, "alice", key="mallory")]))
    assert r["status"] == "blocked" and "unknown key_id" in r["error"], r
    r = receipt(submit(d, c, [approve(cp, "bob", key="alice")]))
    assert r["status"] == "blocked" and "identity" in r["error"], r
    a = approve(cp, "alice", key="alice")
    t = json.loads(json.dumps(a))
    t["scope"] = "time_window"
    r = receipt(submit(d, c, [t]))
    assert r["status"] == "blocked" and "bad signature" in r["error"], r
    assert cscctl("verify-approval", write_contract(a, "a-signed"), "--public-key", os.path.join(WORK, "alice.pub")).stdout == "VALID\n"
    assert cscctl("verify-approval", write_contract(t, "t-signed"), "--public-key", os.path.join(WORK, "alice.pub")).stdout.startswith("INVALID")
    f = submit(d, c, [a])
    assert receipt(f)["status"] == "success", f[-1]
    dual = human("appr-signed-dual-0001", mode="dual_control_required")
    dp = write_contract(dual, "signed-dual")
    r = receipt(submit(d, dual, [approve(dp, "alice", key="alice"), approve(dp, "alice", key="alice")]))
    assert r["status"] == "blocked", r
    r = receipt(submit(d, dual, [approve(dp, "alice", key="alice"), approve(dp, "bob", key="bob")]))
    assert r["status"] == "success", r


def _ro_store(st):
    db = os.path.join(st, "approvals.db")
    open(db, "w").close()
    subprocess.run(["mount", "--bind", db, db], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", db], check=True)


def _corrupt_store(st):
    with open(os.path.join(st, "approvals.db"), "wb") as f:
        f.write(b"this is not an SQLite database" * 100)


def store_read_only_or_corrupt_fails_closed():
    for name, prep in (("read-only", _ro_store), ("corrupt", _corrupt_store)):
        d = Daemon(prepare_state=prep)
        try:
            st = json.loads(cscctl("--socket", d.sock, "status", "--json").stdout)
            assert st["approval_store"]["healthy"] is False and st["approval_store"]["error"], (name, st)
            c = human("appr-%s-0001" % name)
            r = receipt(submit(d, c, [approve(write_contract(c, "st-" + name), "alice")]))
            assert r["status"] == "blocked" and "approval store" in r["error"], (name, r)
            assert receipt(submit(d, contract([{"argv": ["true"]}], cid="appr-%s-0002" % name)))["status"] == "success"
        finally:
            subprocess.run(["umount", "-l", os.path.join(d.state, "approvals.db")], capture_output=True)
            d.stop()


def store_unavailable_fails_closed():
    # approvals.db cannot be opened (a directory in its place): approvals are
    # refused with a clear error; policy_only contracts keep running.
    d = Daemon(prepare_state=lambda st: os.makedirs(os.path.join(st, "approvals.db")))
    try:
        st = json.loads(cscctl("--socket", d.sock, "status", "--json").stdout)
        assert st["approval_store"]["healthy"] is False, st
        c = human("appr-store-0001")
        r = receipt(submit(d, c, [approve(write_contract(c, "store"), "alice")]))
        assert r["status"] == "blocked" and "approval store" in r["error"], r
        assert receipt(submit(d, contract([{"argv": ["true"]}])))["status"] == "success"
    finally:
        d.stop()
    # a full file system under the store
    d = Daemon(prepare_state=lambda st: subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", st], check=True))
    try:
        c = human("appr-full-0001")
        ok = receipt(submit(d, c, [approve(write_contract(c, "full0"), "alice")]))
        assert ok["status"] == "success", ok
        with open(os.path.join(d.state, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        c = human("appr-full-0002")
        r = receipt(submit(d, c, [approve(write_contract(c, "full"), "alice")]))
        assert r["status"] == "blocked" and "approval store" in r["error"], r
        assert receipt(submit(d, contract([{"argv": ["true"]}], cid="appr-full-0003")))["status"] == "success"
    finally:
        d.stop_keep()
        subprocess.run(["umount", "-l", d.state])
        d.stop()


def main():
    t = Tally()
    d = Daemon()
    try:
        for fn in results:
            t.run(fn.__name__, fn, d)
    finally:
        d.stop()
    t.check(d.returncode == 0, "daemon stopped cleanly", d.final_log[-3000:])
    d = signed_daemon()
    try:
        t.run("signed_approvals_with_trusted_approvers", signed_cases, d)
    finally:
        d.stop()
    t.check(d.returncode == 0, "signed daemon stopped cleanly", d.final_log[-3000:])
    t.run("store_unavailable_fails_closed", store_unavailable_fails_closed)
    t.run("initiating_user_check_can_be_turned_off", initiating_user_check_can_be_turned_off)
    t.run("transient_block_does_not_spend_the_approval", transient_block_does_not_spend_the_approval)
    t.run("store_read_only_or_corrupt_fails_closed", store_read_only_or_corrupt_fails_closed)
    shutil.rmtree(WORK, ignore_errors=True)
    print("approvals: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
