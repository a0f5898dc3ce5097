#!/usr/bin/env python3
"""cscd-egress with real parts: the real proxy binary (dropping to the
csc-egress user, seccomp on), this test playing cscd's side of the control
protocol with real accepted TCP sockets passed by SCM_RIGHTS, real curl and
Python clients, and real HTTP/HTTPS servers on 127.0.0.x with a test CA made
by openssl. Names resolve through /etc/hosts bind-mounted in a private mount
namespace (no test hook in the product); everything runs in a private
network namespace whose lo also carries 203.0.113.9, a public address that
is one of "this host's own".

usage: test_egress.py PATH/TO/cscd-egress   (EGRESS_TESTS=name,name runs only those)"""
import os, shutil, signal, socket, ssl, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import egressctl as ec  # noqa: E402
import testca  # noqa: E402
from cscproto import Tally, ensure_user  # noqa: E402

EGRESS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CSCD_EGRESS", ""))
if os.geteuid() != 0:
    print("SKIP: the egress test needs root (a private mount namespace for /etc/hosts, the csc-egress user)")
    sys.exit(77)
for tool in ("curl", "openssl", "unshare"):
    if not shutil.which(tool):
        print("SKIP: %s is not installed (tests/deps.sh installs it)" % tool)
        sys.exit(77)

HOSTS = """127.0.0.1 localhost
::1 localhost
127.0.0.2 allowed.test sub.allowed.test front.test
127.0.0.3 other.test
::1 v6.test
203.0.113.9 own.test
"""

if not os.environ.get("EGRESS_TEST_NS"):
    work = tempfile.mkdtemp(prefix="csc-egress.")
    os.chmod(work, 0o755)
    with open(os.path.join(work, "hosts"), "w") as f:
        f.write(HOSTS)
    os.chmod(os.path.join(work, "hosts"), 0o644)
    env = dict(os.environ, EGRESS_TEST_NS="1", EGRESS_TEST_WORK=work)
    # a private mount namespace for /etc/hosts, and a private network namespace
    # (lo only, plus HOST_ADDR as one of "this host's own addresses")
    rc = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", "sh", "-c",
                         'ip link set lo up && ip addr add 203.0.113.9/32 dev lo && '
                         'mount --bind "$1" /etc/hosts && exec "$2" "$3" "$4"', "sh",
                         os.path.join(work, "hosts"), sys.executable, os.path.abspath(__file__), EGRESS],
                        env=env).returncode
    shutil.rmtree(work, True)
    sys.exit(rc)

WORK = os.environ["EGRESS_TEST_WORK"]
assert open("/etc/hosts").read() == HOSTS, "the private /etc/hosts is not in place"
UID, _ = ensure_user("csc-egress")
LOG = os.path.join(WORK, "egress.log")
PRIVATE = ["127.0.0.0/8"]
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

BIG = 1 << 30


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/headers":
            body = (self.requestline + "\n" + str(self.headers)).encode()
        elif self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(BIG))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            try:
                for _ in range(BIG >> 20):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        else:
            body = ("hello from %s %s\n" % ("HTTPS" if isinstance(self.connection, ssl.SSLSocket) else "HTTP",
                                            self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def make_ca():
    return testca.make_ca(WORK, ["allowed.test", "sub.allowed.test", "front.test", "other.test"], 'csc egress test CA')


class Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(addr, tls=False):
    srv = (Server6 if ":" in addr else ThreadingHTTPServer)((addr, 0), Handler)
    srv.daemon_threads = True
    return testca.start_server(srv, WORK, tls)


class Hold:
    """A TCP server that keeps every connection open until its client closes."""

    def __init__(self, addr, drain=True, pause=0.0):
        self.drain, self.pause = drain, pause
        self.sock = socket.create_server((addr, 0), backlog=512)
        self.port = self.sock.getsockname()[1]
        self.held = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            c, _ = self.sock.accept()
            self.held.append(c)
            if self.drain:
                threading.Thread(target=self._drain, args=(c,), daemon=True).start()

    def _drain(self, c):
        try:
            while c.recv(65536):
                if self.pause:
                    time.sleep(self.pause)
        except OSError:
            pass
        c.close()


CA = make_ca()
HP = serve("127.0.0.2")
SP = serve("127.0.0.2", tls=True)
OTHER_HP = serve("127.0.0.3")
OWN_HP = serve("203.0.113.9")
try:
    V6_HP = serve("::1")
except OSError:  # a host without IPv6: t_ipv6 says so and is not counted
    V6_HP = None
HOLD = Hold("127.0.0.2")
SLOW = Hold("127.0.0.2", pause=0.002)  # reads slowly: the proxy's buffers stay full
CURL_ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}

P = None
counter = [0]
T = Tally()


def start_proxy():
    p = ec.Proxy(EGRESS, user="csc-egress", stderr_path=LOG)
    p.send(ec.config(PRIVATE))
    return p


def execution(hosts, **kw):
    counter[0] += 1
    eid = "exec-%d-%d" % (os.getpid(), counter[0])
    P.send(ec.exec_begin(eid, hosts, **kw))
    return eid, ec.Listener(P, eid)


def end(eid, listener):
    listener.close()
    P.send(ec.exec_end(eid))
    done = P.wait(lambda m: m["type"] == ec.EXEC_DONE and m["exec_id"] == eid)
    assert done, "no EXEC_DONE for %s" % eid
    return done, P.reports(eid)


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "20", *args], capture_output=True, text=True,
                          timeout=40, env=CURL_ENV)


def recv_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def connect_raw(listener, request, timeout=10):
    """Sends request to the proxy; returns (socket, what arrived up to the end of the reply head)."""
    s = socket.create_connection(("127.0.0.1", listener.port), timeout=timeout)
    s.sendall(request)
    return s, recv_head(s)


def refusal(listener, request):
    """The whole reply to a request the proxy refuses (head and body)."""
    s, head = connect_raw(listener, request)
    return head + read_all(s)


def read_all(s):
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return out


def log_text():
    with open(LOG, errors="replace") as f:
        return f.read()


def socks(listener, host=None, port=0, ip=None):
    """A SOCKS5 CONNECT; returns (socket, reply code)."""
    s = socket.create_connection(("127.0.0.1", listener.port), timeout=10)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00", "no no-auth method"
    if ip:
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(ip) + struct.pack(">H", port))
    else:
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + struct.pack(">H", port))
    reply = s.recv(10)
    return s, reply[1] if len(reply) > 1 else None


# ---- cases ------------------------------------------------------------------

def t_privileges():
    status = open("/proc/%d/status" % P.proc.pid).read()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["Uid"].split() == [str(UID)] * 4, fields["Uid"]
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[cap].strip(), 16) == 0, (cap, fields[cap])
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2", "no seccomp filter"
    groups = fields["Groups"].split()
    assert groups == [], groups


def t_connect_allowed():
    eid, L = execution(["allowed.test:%d" % SP])
    r = curl("--cacert", CA, "-x", "http://127.0.0.1:%d" % L.port, "https://allowed.test:%d/hello" % SP)
    assert r.returncode == 0 and r.stdout == "hello from HTTPS /hello\n", (r.returncode, r.stdout, r.stderr)
    done, reps = end(eid, L)
    assert done["allowed"] == 1 and done["denied"] == 0, done
    rep = reps[0]
    assert rep["verdict"] == "allowed" and rep["proto"] == "connect" and rep["host"] == "allowed.test", rep
    assert rep["address"] == "127.0.0.2:%d" % SP and rep["port"] == SP, rep
    assert rep["bytes_up"] > 100 and rep["bytes_down"] > 100, rep
    assert "CSC_EXECUTION_ID=%s verdict=allowed proto=connect host=allowed.test" % eid in log_text()


def t_http_allowed():
    eid, L = execution(["allowed.test:%d" % HP])
    r = curl("-x", "http://127.0.0.1:%d" % L.port, "-H", "Proxy-Connection: keep-alive",
             "http://allowed.test:%d/headers" % HP)
    assert r.returncode == 0, r.stderr
    # the origin server sees an origin-form request, hop-by-hop headers gone, Connection: close
    assert r.stdout.startswith("GET /headers HTTP/1.1\n"), r.stdout
    assert "Connection: close" in r.stdout and "Proxy-Connection" not in r.stdout, r.stdout
    done, reps = end(eid, L)
    assert done["allowed"] == 1 and reps[0]["proto"] == "http", (done, reps)


def t_socks_allowed():
    eid, L = execution(["allowed.test:%d" % HP, "allowed.test:%d" % SP])
    r = curl("-x", "socks5h://127.0.0.1:%d" % L.port, "http://allowed.test:%d/s" % HP)
    assert r.returncode == 0 and r.stdout == "hello from HTTP /s\n", (r.stdout, r.stderr)
    r = curl("--cacert", CA, "-x", "socks5h://127.0.0.1:%d" % L.port, "https://allowed.test:%d/s" % SP)
    assert r.returncode == 0 and r.stdout == "hello from HTTPS /s\n", (r.stdout, r.stderr)
    done, reps = end(eid, L)
    assert done["allowed"] == 2 and all(x["proto"] == "socks5" for x in reps), reps


def t_denied_host():
    eid, L = execution(["allowed.test:%d" % SP])
    r = curl("--cacert", CA, "-x", "http://127.0.0.1:%d" % L.port, "https://other.test:%d/hello" % SP)
    assert r.returncode != 0 and "403" in r.stderr, (r.returncode, r.stderr)
    body = refusal(L, b"CONNECT other.test:%d HTTP/1.1\r\nHost: other.test:%d\r\n\r\n" % (SP, SP)).decode()
    assert body.startswith("HTTP/1.1 403 "), body
    assert "other.test" in body and "not in allowed_egress_hosts" in body, body
    s, code = socks(L, "other.test", SP)
    assert code == 2, code
    done, reps = end(eid, L)
    assert done["denied"] == 3 and done["allowed"] == 0, done
    assert all(x["verdict"] == "denied" and x["host"] == "other.test" and x["address"] == "" for x in reps), reps
    assert ("CSC_EXECUTION_ID=%s verdict=denied proto=connect host=other.test port=%d" % (eid, SP)) in log_text()


def t_ports_and_wildcards():
    eid, L = execution(["allowed.test", "*.allowed.test:%d" % HP])
    s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % SP)
    assert head.startswith(b"HTTP/1.1 403"), ("a rule without a port allows 80 and 443 only", head)
    r = curl("-x", "http://127.0.0.1:%d" % L.port, "http://sub.allowed.test:%d/w" % HP)
    assert r.returncode == 0 and r.stdout == "hello from HTTP /w\n", r.stderr
    s, head = connect_raw(L, b"GET http://allowed.test:%d/ HTTP/1.1\r\nHost: allowed.test:%d\r\n\r\n" % (HP, HP))
    assert head.startswith(b"HTTP/1.1 403"), ("*.allowed.test must not match the apex", head)
    end(eid, L)


def t_odd_spellings():
    eid, L = execution(["allowed.test:%d" % SP, "localhost:%d" % SP])
    cases = {
        b"127.0.0.2": b"403", b"[::ffff:127.0.0.2]": b"403",  # IP literals never match names
        b"2130706434": b"400", b"0177.0.0.2": b"400", b"0x7f.0.0.2": b"400", b"127.2": b"400",
        b"allowed%2etest": b"400", b"allowed.test\x00.evil": b"400", b"allowed..test": b"400",
    }
    for host, want in cases.items():
        s, head = connect_raw(L, b"CONNECT " + host + b":%d HTTP/1.1\r\n\r\n" % SP)
        assert head.startswith(b"HTTP/1.1 " + want), (host, head)
        s.close()
    s, code = socks(L, ip="127.0.0.2", port=SP)
    assert code == 2, ("SOCKS IPv4 address against a name rule", code)
    # case and the trailing dot are normalized; the tunnel works
    s, head = connect_raw(L, b"CONNECT ALLOWED.Test.:%d HTTP/1.1\r\n\r\n" % SP)
    assert head.startswith(b"HTTP/1.1 200"), head
    s.close()
    done, reps = end(eid, L)
    assert done["allowed"] == 1 and done["denied"] == len(cases) + 1, done


def t_ip_rule():
    eid, L = execution(["127.0.0.2:%d" % SP])
    s, head = connect_raw(L, b"CONNECT 127.0.0.2:%d HTTP/1.1\r\n\r\n" % SP)
    assert head.startswith(b"HTTP/1.1 200"), head
    s.close()
    s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % SP)
    assert head.startswith(b"HTTP/1.1 403"), ("a name never matches an IP rule", head)
    end(eid, L)


def t_loopback_refused():
    P.send(ec.config([]))
    try:
        eid, L = execution(["allowed.test:%d" % SP, "localhost:%d" % SP, "127.0.0.2:%d" % SP])
        for host, what in ((b"allowed.test", b"127.0.0.2"), (b"localhost", b"localhost"), (b"127.0.0.2", b"127.0.0.2")):
            body = refusal(L, b"CONNECT " + host + b":%d HTTP/1.1\r\n\r\n" % SP)
            assert body.startswith(b"HTTP/1.1 403") and b"loopback" in body and what in body, (host, body)
        r = curl("--cacert", CA, "-x", "http://127.0.0.1:%d" % L.port, "https://allowed.test:%d/" % SP)
        assert r.returncode != 0, "loopback reached without egress_allow_private"
        done, reps = end(eid, L)
        assert done["allowed"] == 0 and done["denied"] == 4, done
        assert reps[0]["address"].startswith("127.0.0.2:") and "loopback" in reps[0]["reason"], reps[0]
    finally:
        P.send(ec.config(PRIVATE))


def t_ipv6():
    if V6_HP is None:
        print("SKIP ipv6: this host has no ::1")
        T.passed -= 1
        return
    P.send(ec.config(PRIVATE + ["::1/128"]))
    try:
        eid, L = execution(["v6.test:%d" % V6_HP, "[::1]:%d" % V6_HP])
        r = curl("-x", "http://127.0.0.1:%d" % L.port, "http://v6.test:%d/six" % V6_HP)
        assert r.returncode == 0 and r.stdout == "hello from HTTP /six\n", r.stderr
        s, head = connect_raw(L, b"CONNECT [::1]:%d HTTP/1.1\r\n\r\n" % V6_HP)
        assert head.startswith(b"HTTP/1.1 200"), head
        s.close()
        s, code = socks(L, "v6.test", V6_HP)
        assert code == 0, code
        s.close()
        done, reps = end(eid, L)
        assert done["allowed"] == 3 and all(x["address"] == "[::1]:%d" % V6_HP for x in reps), reps
    finally:
        P.send(ec.config(PRIVATE))
    eid, L = execution(["v6.test:%d" % V6_HP])  # 127.0.0.0/8 does not cover ::1
    body = refusal(L, b"CONNECT v6.test:%d HTTP/1.1\r\n\r\n" % V6_HP)
    assert body.startswith(b"HTTP/1.1 403") and b"[::1]" in body and b"loopback" in body, body
    end(eid, L)


def t_host_address():
    eid, L = execution(["own.test:%d" % OWN_HP, "203.0.113.9:%d" % OWN_HP])
    for host in (b"own.test", b"203.0.113.9"):
        body = refusal(L, b"CONNECT " + host + b":%d HTTP/1.1\r\n\r\n" % OWN_HP)
        assert body.startswith(b"HTTP/1.1 403") and b"an address of this host" in body, (host, body)
    end(eid, L)
    P.send(ec.config(PRIVATE + ["203.0.113.0/24"]))  # the admin's exception covers it
    try:
        eid, L = execution(["own.test:%d" % OWN_HP])
        r = curl("-x", "http://127.0.0.1:%d" % L.port, "http://own.test:%d/own" % OWN_HP)
        assert r.returncode == 0 and r.stdout == "hello from HTTP /own\n", r.stderr
        end(eid, L)
    finally:
        P.send(ec.config(PRIVATE))


def t_sni():
    eid, L = execution(["allowed.test:%d" % SP])
    ctx = ssl.create_default_context(cafile=CA)
    s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % SP)
    assert head.startswith(b"HTTP/1.1 200"), head
    try:
        ctx.wrap_socket(s, server_hostname="front.test")  # the certificate is valid for front.test too
        raise AssertionError("TLS handshake with a fronted SNI went through")
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError) as e:
        assert not isinstance(e, AssertionError)
    s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % SP)
    t = ctx.wrap_socket(s, server_hostname="allowed.test")
    t.sendall(b"GET /sni HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n")
    assert b"hello from HTTPS /sni" in read_all(t)
    done, reps = end(eid, L)
    fronted = [x for x in reps if "SNI" in x["reason"]]
    assert len(fronted) == 1 and fronted[0]["verdict"] == "denied" and "front.test" in fronted[0]["reason"], reps


def t_sni_socks():
    eid, L = execution(["allowed.test:%d" % SP])
    ctx = ssl.create_default_context(cafile=CA)
    s, code = socks(L, "allowed.test", SP)
    assert code == 0, code
    try:
        ctx.wrap_socket(s, server_hostname="front.test")
        raise AssertionError("TLS handshake with a fronted SNI went through SOCKS5")
    except (ssl.SSLError, OSError):
        pass
    done, reps = end(eid, L)
    assert reps[0]["verdict"] == "denied" and "front.test" in reps[0]["reason"], reps


def t_socks_refusals():
    eid, L = execution(["allowed.test:%d" % SP])
    s = socket.create_connection(("127.0.0.1", L.port), timeout=10)
    s.sendall(b"\x05\x01\x02")  # username/password only
    assert read_all(s) == b"\x05\xff", "a greeting without no-auth must get 0xff and a close"
    s = socket.create_connection(("127.0.0.1", L.port), timeout=10)
    s.sendall(b"\x05\x01\x00")
    assert s.recv(2) == b"\x05\x00"
    s.sendall(b"\x05\x02\x00\x03\x0callowed.test" + struct.pack(">H", SP))  # BIND
    assert read_all(s)[:2] == b"\x05\x07", "BIND must get reply 7"
    s, code = socks(L, "2130706434", SP)
    assert code == 1, ("odd IPv4 spelling over SOCKS5", code)
    done, reps = end(eid, L)
    assert done["allowed"] == 0 and done["denied"] == 3, done


def t_pending_limit():
    eid, L = execution(["allowed.test:%d" % HOLD.port])
    silent = [socket.create_connection(("127.0.0.1", L.port), timeout=10) for _ in range(64)]
    extra = socket.create_connection(("127.0.0.1", L.port), timeout=10)
    assert read_all(extra) == b"", "a 65th connection that has not sent its request yet must be closed"
    rep = P.wait(lambda m: m["type"] == ec.REPORT and m["exec_id"] == eid)
    assert rep and "still sending their request" in rep["reason"], rep
    try:  # closed at once: EOF, or a reset when the request was already in flight
        s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % HOLD.port)
    except ConnectionResetError:
        head = b""
    assert head == b"", "still at the pending limit"
    silent[0].sendall(b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % HOLD.port)
    assert recv_head(silent[0]).startswith(b"HTTP/1.1 200"), "a pending connection that sends its request is served"
    for x in silent:
        x.close()
    end(eid, L)


def t_startup_refusals():
    r = subprocess.run([EGRESS, "--control-fd", "0"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 64 and "--control-fd" in r.stderr, (r.returncode, r.stderr)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    r = subprocess.run([EGRESS, "--control-fd", str(b.fileno())], pass_fds=[b.fileno()], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 64 and "SOCK_SEQPACKET" in r.stderr, (r.returncode, r.stderr)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    r = subprocess.run([EGRESS, "--control-fd", str(b.fileno())], pass_fds=[b.fileno()], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 64 and "--user is required" in r.stderr, ("root without --user", r.returncode, r.stderr)
    r = subprocess.run([EGRESS, "--control-fd", str(b.fileno()), "--user", "root"], pass_fds=[b.fileno()],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 71 and "must not be root" in r.stderr, (r.returncode, r.stderr)
    r = subprocess.run([EGRESS, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--control-fd" in r.stdout


def t_http_host_header():
    eid, L = execution(["allowed.test:%d" % HP])
    bad = [
        b"GET http://allowed.test:%d/ HTTP/1.1\r\nHost: other.test:%d\r\n\r\n" % (HP, OTHER_HP),
        b"GET http://allowed.test:%d/ HTTP/1.1\r\nHost: allowed.test:%d\r\nHost: other.test\r\n\r\n" % (HP, HP),
        b"GET http://allowed.test:%d/ HTTP/1.1\r\n\r\n" % HP,
        b"GET http://user@allowed.test:%d/ HTTP/1.1\r\nHost: allowed.test:%d\r\n\r\n" % (HP, HP),
        b"GET /origin-form HTTP/1.1\r\nHost: allowed.test:%d\r\n\r\n" % HP,
        b"GET http://allowed.test:%d/ HTTP/1.1\nHost: allowed.test:%d\r\n\r\n" % (HP, HP),
    ]
    for req in bad:
        s, head = connect_raw(L, req)
        assert head.startswith(b"HTTP/1.1 400"), (req, head)
        s.close()
    done, reps = end(eid, L)
    assert done["allowed"] == 0 and done["denied"] == len(bad), done


def t_concurrency():
    eid, L = execution(["allowed.test:%d" % HOLD.port])
    socks_, ok, refused = [], 0, 0
    for _ in range(100):
        s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % HOLD.port)
        if head.startswith(b"HTTP/1.1 200"):
            ok += 1
            socks_.append(s)
        else:
            head += read_all(s)
            assert head.startswith(b"HTTP/1.1 403") and b"too many connections" in head, head
            refused += 1
            s.close()
    assert (ok, refused) == (64, 36), (ok, refused)
    for s in socks_[:8]:
        s.close()
    deadline = time.time() + 10
    while True:  # the closed tunnels free their slots
        s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % HOLD.port)
        if head.startswith(b"HTTP/1.1 200"):
            socks_.append(s)
            break
        assert time.time() < deadline, "no slot freed"
        time.sleep(0.1)
    done, reps = end(eid, L)
    assert done["allowed"] == 65 and done["denied"] >= 36, done
    for s in socks_:
        s.close()


def t_limits():
    eid, L = execution(["allowed.test:%d" % HP, "allowed.test:%d" % HOLD.port], byte_cap=200000, idle_ms=1000)
    s, head = connect_raw(L, b"GET http://allowed.test:%d/big HTTP/1.1\r\nHost: allowed.test:%d\r\n\r\n" % (HP, HP))
    got = len(head) + len(read_all(s))
    assert 0 < got <= 200000, got
    body = refusal(L, b"GET http://allowed.test:%d/x HTTP/1.1\r\nHost: allowed.test:%d\r\n\r\n" % (HP, HP))
    assert body.startswith(b"HTTP/1.1 403") and b"byte cap" in body, body
    done, reps = end(eid, L)
    assert reps[0]["reason"].startswith("the execution's byte cap"), reps[0]
    assert reps[0]["bytes_up"] + reps[0]["bytes_down"] == 200000, reps[0]
    # uploads too, to a server that reads slowly: the cap counts what the proxy
    # took from the client, however much of it is still buffered
    cap = 16 << 20
    eid, L = execution(["allowed.test:%d" % SLOW.port], byte_cap=cap)
    s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % SLOW.port)
    assert head.startswith(b"HTTP/1.1 200"), head
    s.settimeout(30)
    try:
        s.sendall(b"u" * (64 << 20))
    except OSError:
        pass
    read_all(s)
    done, reps = end(eid, L)
    assert reps[0]["bytes_up"] == cap and reps[0]["reason"].startswith("the execution's byte cap"), reps[0]
    eid, L = execution(["allowed.test:%d" % HOLD.port], idle_ms=1000)
    s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % HOLD.port)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert read_all(s) == b"", "idle tunnel not closed"
    done, reps = end(eid, L)
    assert reps[0]["reason"] == "idle timeout", reps


def t_request_timeout():
    eid, L = execution(["allowed.test:%d" % HP])
    s = socket.create_connection(("127.0.0.1", L.port), timeout=30)  # well past the 10 s deadline
    s.sendall(b"CONNECT allowed.test:%d HTTP/1.1\r\n" % HP)  # never finished
    body = read_all(s)
    assert body.startswith(b"HTTP/1.1 408") and b"no complete request" in body, body
    done, reps = end(eid, L)
    assert reps[0]["verdict"] == "denied", reps


def t_connect_timeout():
    # a listener whose accept queue is full drops further SYNs: connect() hangs
    full = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    full.bind(("127.0.0.2", 0))
    full.listen(0)
    port = full.getsockname()[1]
    fillers = []
    for _ in range(3):
        f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        f.setblocking(False)
        f.connect_ex(("127.0.0.2", port))
        fillers.append(f)
    time.sleep(0.5)
    eid, L = execution(["allowed.test:%d" % port])
    s = socket.create_connection(("127.0.0.1", L.port), timeout=60)  # past the 30 s connect deadline
    s.sendall(b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % port)
    body = read_all(s)
    assert body.startswith(b"HTTP/1.1 504") and b"no connection within" in body, body
    done, reps = end(eid, L)
    assert reps[0]["verdict"] == "failed" and reps[0]["address"] == "127.0.0.2:%d" % port, reps
    for f in fillers:
        f.close()
    full.close()


def t_exec_end():
    eid, L = execution(["allowed.test:%d" % HOLD.port])
    s, head = connect_raw(L, b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % HOLD.port)
    assert head.startswith(b"HTTP/1.1 200")
    done, reps = end(eid, L)
    assert read_all(s) == b"" and reps[0]["reason"] == "execution ended" and done["allowed"] == 1, reps


def t_control_hostile():
    before = len(P.msgs)
    bad = [b"\x00", ec.frame(ec.EXEC_END, ec.s16("x"), reserved=1), ec.frame(ec.EXEC_END, ec.s16("x"), length=99),
           ec.frame(ec.EXEC_END, ec.s16("x") + b"junk"), ec.frame(0x77, b""), ec.frame(ec.READY, b"\0\0\0\1"),
           ec.frame(ec.EXEC_END, b"\x00\x05ab"), ec.frame(ec.EXEC_END, b"\x00\x02a\x00"),
           ec.exec_begin("e", ["ok.test", "*.1.2.3.4"]), ec.exec_begin("e", ["a"], max_conns=65),
           ec.exec_begin("e", ["a"], idle_ms=0), ec.conn("exec-without-fd")]
    for b in bad:
        P.send(b)
    assert P.wait(lambda m: m["type"] == ec.ERROR and "allowed_egress_hosts[1]" in m["message"]), "bad rule not named"
    deadline = time.time() + 10
    while len([m for m in P.msgs[before:] if m["type"] == ec.ERROR]) < len(bad) and time.time() < deadline:
        time.sleep(0.05)
    assert len([m for m in P.msgs[before:] if m["type"] == ec.ERROR]) == len(bad), P.msgs[before:]
    # a connection for an execution that does not exist is closed, not served
    a, b = socket.socketpair()
    P.send(ec.conn("no-such-execution"), [b.fileno()])
    b.close()
    a.settimeout(10)
    assert a.recv(10) == b"", "connection for an unknown execution left open"
    # two descriptors where one is allowed
    c, d = socket.socketpair()
    P.send(ec.conn("no-such-execution"), [c.fileno(), d.fileno()])
    assert P.wait(lambda m: m["type"] == ec.ERROR and "descriptors" in m["message"])
    # a datagram over EGRESS_MSG_MAX (96 KiB)
    P.send(ec.frame(ec.EXEC_END, b"\0" * (100 * 1024)))
    assert P.wait(lambda m: m["type"] == ec.ERROR and "datagram" in m["message"]), "oversized datagram"
    # EGRESS_EXECS_MAX (4096) executions at once, and one more; a duplicate id
    before = len([m for m in P.msgs if m["type"] == ec.ERROR])
    for i in range(4096):
        P.send(ec.exec_begin("many-%d" % i, []))
    P.send(ec.exec_begin("many-0", []))
    P.send(ec.exec_begin("one-too-many", []))
    assert P.wait(lambda m: m["type"] == ec.ERROR and m["exec_id"] == "one-too-many" and "too many executions" in m["message"])
    assert P.wait(lambda m: m["type"] == ec.ERROR and m["exec_id"] == "many-0" and "already registered" in m["message"])
    assert len([m for m in P.msgs if m["type"] == ec.ERROR]) == before + 2, "an execution under the limit was refused"
    for i in range(4096):
        P.send(ec.exec_end("many-%d" % i))
    assert P.wait(lambda m: m["type"] == ec.EXEC_DONE and m["exec_id"] == "many-4095", 30)
    # still serving
    eid, L = execution(["allowed.test:%d" % HP])
    r = curl("-x", "http://127.0.0.1:%d" % L.port, "http://allowed.test:%d/still" % HP)
    assert r.returncode == 0 and r.stdout == "hello from HTTP /still\n", r.stderr
    end(eid, L)


def t_kill_mid_transfer():
    global P
    eid, L = execution(["allowed.test:%d" % HP])
    s, head = connect_raw(L, b"GET http://allowed.test:%d/big HTTP/1.1\r\nHost: allowed.test:%d\r\n\r\n" % (HP, HP))
    assert head.startswith(b"HTTP/1.1 200"), head
    got = 0
    while got < (4 << 20):
        got += len(s.recv(1 << 16))
    P.proc.kill()
    got += len(read_all(s))
    assert got < BIG, "the transfer survived the proxy"
    assert P.wait_closed(10), "the control side did not see the proxy die"
    assert P.proc.wait(10) == -signal.SIGKILL
    # fail closed: the execution's next connection goes nowhere
    c = socket.create_connection(("127.0.0.1", L.port), timeout=10)
    c.sendall(b"CONNECT allowed.test:%d HTTP/1.1\r\n\r\n" % HP)
    assert read_all(c) == b"", "a connection was served with the proxy dead"
    L.close()
    P = start_proxy()  # cscd restarts it; a new one serves
    eid, L = execution(["allowed.test:%d" % HP])
    r = curl("-x", "http://127.0.0.1:%d" % L.port, "http://allowed.test:%d/again" % HP)
    assert r.returncode == 0 and r.stdout == "hello from HTTP /again\n", r.stderr
    end(eid, L)


def t_clean_exit():
    assert P.stop() == 0, "cscd-egress did not exit cleanly when cscd closed the control socket"
    assert "ERROR: AddressSanitizer" not in log_text() and "runtime error" not in log_text(), log_text()[-2000:]


P = start_proxy()
ONLY = [x for x in os.environ.get("EGRESS_TESTS", "").split(",") if x]  # e.g. EGRESS_TESTS=sni,limits
for name, fn in [(n, f) for n, f in list(globals().items()) if n.startswith("t_") and (not ONLY or n[2:] in ONLY)]:
    T.run(name[2:].replace("_", " "), fn)
print("egress: %d passed, %d failed" % (T.passed, T.failed))
if T.failed:
    print("---- cscd-egress log (tail) ----")
    print(log_text()[-4000:])
sys.exit(1 if T.failed else 0)
