#!/usr/bin/env python3
"""The warm sandbox pool (daemon/warm_pool.c), against the real cscd.

Behaviour only, never timing (speed is csc-bench's job): the pool fills and
serves, refills, follows the network kind, replaces an executor that died,
drains on reload, dies with the daemon; a warm executor holds nothing of any
peer and none of cscd's memory (a fresh image, cscd-executor); and a warm sandbox sees the host as it is when the submit comes, not as
it was when the executor was made (a mount made after the pool filled is
visible: the executor copies the host's mounts afresh)."""
import base64, os, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(__file__))
from cscproto import Conn, Daemon, Tally, contract, ensure_user, mkwork, output_of  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the pool tests need root (cscd runs commands as a real user)")
    sys.exit(77)
UID, GID = ensure_user()


def request(d, obj):
    c = Conn(d.sock, UID, GID)
    c.send(obj)
    frames = c.recv_until_receipt() if obj["type"] == "submit" else [c.recv()]
    c.close()
    return frames


def pool(d):
    return request(d, {"type": "status"})[0]["sandbox"]["warm_pool"]


def wait_pool(d, own, host=None, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        p = pool(d)
        if p["ready"]["own_network"] == own and (host is None or p["ready"]["host_network"] == host):
            return p
        time.sleep(0.05)
    raise AssertionError("pool did not reach %s/%s: %r" % (own, host, pool(d)))


def run(d, cmds):
    frames = request(d, {"type": "submit", "contract": contract(cmds)})
    assert frames[-1]["type"] == "receipt", frames[-1]
    return frames[-1]["receipt"], output_of(frames)


def executors(d):
    """Warm executors: cscd's children named cscd-executor."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % pid).read()
        except OSError:
            continue
        if int(st.rsplit(")", 1)[1].split()[1]) == d.proc.pid and "cscd-executor" in st.split(")")[0]:
            out.append(int(pid))
    return out


def fills_serves_and_refills(d):
    p = wait_pool(d, 4, 1)
    assert p["off"] is None and p["warm_sandboxes"] == 4 and p["depth"]["own_network"] == 4, p
    r, out = run(d, [{"argv": ["id", "-u"]}])
    assert r["status"] == "success" and out == b"%d\n" % UID, (r, out)
    p = wait_pool(d, 4)
    assert p["served_warm"] >= 1 and p["made"] >= 6, p


def host_network_kind_has_its_own_pool(d):
    before = pool(d)["served_warm"]
    r, out = run(d, [{"argv": ["echo", "full"], "network": "full"}])
    assert r["status"] == "success" and out == b"full\n", (r, out)
    p = pool(d)
    assert p["served_warm"] == before + 1, p
    # used now: the host pool is kept as deep as the other for a minute
    p = wait_pool(d, 4, 4)
    assert p["depth"]["host_network"] == 4, p


def warm_executor_holds_nothing_of_a_peer(d):
    wait_pool(d, 4)
    pids = executors(d)
    assert len(pids) >= 4, pids
    host_mnt = os.readlink("/proc/self/ns/mnt")
    for pid in pids:
        status = dict(l.split(":", 1) for l in open("/proc/%d/status" % pid).read().splitlines())
        assert status["Uid"].split()[0] == "0", status["Uid"]          # no peer's credentials yet
        fds = sorted(int(f) for f in os.listdir("/proc/%d/fd" % pid))
        assert fds == [0, 1, 2, 3, 4], (pid, fds)                      # control socket, host mount ns
        assert os.readlink("/proc/%d/fd/4" % pid) == host_mnt
        assert os.readlink("/proc/%d/ns/pid" % pid) != os.readlink("/proc/self/ns/pid")
        for fd in (0, 1):
            assert os.readlink("/proc/%d/fd/%d" % (pid, fd)) == "/dev/null"


def memory_holds(pid, needle):
    """Whether needle is anywhere in the process's readable memory."""
    found = False
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if "r" not in perms or line.rstrip().endswith(("[vvar]", "[vsyscall]")):
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            if hi - lo > (1 << 30):
                continue   # a sanitizer's shadow or reserve: nothing of a program's data
            pos, tail = lo, b""
            while pos < hi and not found:
                try:
                    mem.seek(pos)
                    chunk = mem.read(min(1 << 20, hi - pos))
                except (OSError, OverflowError, ValueError):
                    break
                found = needle in tail + chunk
                tail = chunk[-len(needle):]
                pos += 1 << 20
    return found


def warm_executor_is_a_fresh_image(d):
    wait_pool(d, 4)
    needle = d.conf.encode()   # on cscd's command line and in its heap
    assert memory_holds(d.proc.pid, needle), "the probe does not see cscd's own memory"
    for pid in executors(d):
        assert os.readlink("/proc/%d/exe" % pid).endswith("/cscd-executor"), os.readlink("/proc/%d/exe" % pid)
        assert not memory_holds(pid, needle), "warm executor %d holds cscd's memory" % pid


def sees_a_mount_made_after_the_pool_filled(d):
    wait_pool(d, 4)
    base = mkwork("csc-pool.")
    os.chmod(base, 0o755)
    mnt = os.path.join(base, "m")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", mnt], check=True)
    try:
        with open(os.path.join(mnt, "new"), "w") as f:
            f.write("mounted later\n")
        r, out = run(d, [{"argv": ["cat", os.path.join(mnt, "new")], "read": [base], "cwd": "/"}])
        assert r["status"] == "success" and out == b"mounted later\n", (r, out)
    finally:
        subprocess.run(["umount", "-l", mnt])


def a_dead_warm_executor_is_replaced(d):
    p = wait_pool(d, 4)
    victim = executors(d)[0]
    os.kill(victim, signal.SIGKILL)
    end = time.time() + 20
    while time.time() < end and pool(d)["lost"] < p["lost"] + 1:
        time.sleep(0.05)
    assert pool(d)["lost"] == p["lost"] + 1, pool(d)
    wait_pool(d, 4)
    r, out = run(d, [{"argv": ["echo", "ok"]}])
    assert r["status"] == "success" and out == b"ok\n", (r, out)


def set_warm(d, n):
    lines = open(d.conf).read().splitlines()
    with open(d.conf, "w") as f:
        f.write("\n".join(l for l in lines if not l.startswith("warm_sandboxes")) + "\nwarm_sandboxes: %d\n" % n)
    d.proc.send_signal(signal.SIGHUP)


def reload_to_zero_drains_and_serves_cold(d):
    wait_pool(d, 4)
    set_warm(d, 0)
    end = time.time() + 20
    while time.time() < end and (pool(d)["off"] is None or executors(d)):
        time.sleep(0.05)
    p = pool(d)
    assert p["off"] == "warm_sandboxes is 0" and p["ready"] == {"own_network": 0, "host_network": 0}, p
    assert executors(d) == [], executors(d)
    warm, cold = p["served_warm"], p["served_cold"]
    r, out = run(d, [{"argv": ["echo", "cold"]}])
    assert r["status"] == "success" and out == b"cold\n", (r, out)
    p = pool(d)
    assert p["served_warm"] == warm and p["served_cold"] == cold, p   # off: counted as neither
    set_warm(d, 2)
    p = wait_pool(d, 2)
    assert p["off"] is None and p["warm_sandboxes"] == 2, p


def warm_executors_die_with_the_daemon(d):
    wait_pool(d, 2)
    pids = executors(d)
    assert pids
    d.proc.kill()
    d.proc.wait()
    end = time.time() + 10
    while time.time() < end and any(os.path.exists("/proc/%d" % p) for p in pids):
        time.sleep(0.05)
    assert not any(os.path.exists("/proc/%d/stat" % p) and " Z " not in open("/proc/%d/stat" % p).read()
                   for p in pids if os.path.exists("/proc/%d" % p)), pids


def off_pool_serves_cold(d, why):
    """The pool stays off with why, and submits still run (cold)."""
    time.sleep(0.3)
    p = pool(d)
    assert p["off"] == why and p["ready"] == {"own_network": 0, "host_network": 0}, p
    r, out = run(d, [{"argv": ["echo", "cold"]}])
    assert r["status"] == "success" and out == b"cold\n", (r, out)
    assert executors(d) == [] and pool(d)["made"] == 0, (executors(d), pool(d))


def without_executor_program_the_pool_is_off():
    d = Daemon(config_extra="warm_sandboxes: 4\nexecutor_program: /nonexistent/cscd-executor\n")
    try:
        off_pool_serves_cold(d, "no cscd-executor program (executor_program)")
        assert "executor_program /nonexistent/cscd-executor" in d.logtext(), d.logtext()[-2000:]
    finally:
        d.stop()


def without_cap_sys_chroot_the_pool_is_off():
    d = Daemon(config_extra="warm_sandboxes: 4\n")
    try:
        d.stop_keep()
        d.args = ["setpriv", "--bounding-set=-sys_chroot", "--"] + d.args
        d.restart()
        off_pool_serves_cold(d, "cscd runs without CAP_SYS_CHROOT")
        assert "started without CAP_SYS_CHROOT" in d.logtext(), d.logtext()[-2000:]
    finally:
        d.stop()


def main():
    t = Tally()
    d = Daemon(config_extra="warm_sandboxes: 4\n")
    try:
        for fn in (fills_serves_and_refills, host_network_kind_has_its_own_pool, warm_executor_holds_nothing_of_a_peer,
                   warm_executor_is_a_fresh_image,
                   sees_a_mount_made_after_the_pool_filled, a_dead_warm_executor_is_replaced,
                   reload_to_zero_drains_and_serves_cold, warm_executors_die_with_the_daemon):
            t.run(fn.__name__, fn, d)
    finally:
        d.stop()
    for fn in (without_executor_program_the_pool_is_off, without_cap_sys_chroot_the_pool_is_off):
        t.run(fn.__name__, fn)
    print("warm pool: %d passed, %d failed" % (t.passed, t.failed))
    sys.exit(1 if t.failed else 0)


main()
