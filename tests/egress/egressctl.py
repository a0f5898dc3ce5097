"""egressctl — the daemon's side of the cscd <-> cscd-egress control protocol
(daemon/egress/egress_proto.h), written again from the format so that the
tests check the C code against the documentation, not against itself.

One SOCK_SEQPACKET datagram per message: u16 type, u16 reserved (0), u32 body
length, body; big-endian; strings are a u16 length and the bytes."""
import ipaddress, os, socket, struct, subprocess, threading, time

CONFIG, EXEC_BEGIN, EXEC_END, CONN = 1, 2, 3, 4
READY, REPORT, EXEC_DONE, ERROR = 0x80, 0x81, 0x82, 0x83
VERDICTS = {1: "allowed", 2: "denied", 3: "failed"}
PROTOS = {0: "none", 1: "connect", 2: "http", 3: "socks5"}


def s16(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">H", len(b)) + b


def frame(mtype, body, reserved=0, length=None):
    return struct.pack(">HHI", mtype, reserved, len(body) if length is None else length) + body


def config(cidrs):
    body = struct.pack(">H", len(cidrs))
    for c in cidrs:
        net = ipaddress.ip_network(c)
        fam = 4 if net.version == 4 else 6
        body += struct.pack(">BB", fam, net.prefixlen) + net.network_address.packed.ljust(16, b"\0")
    return frame(CONFIG, body)


def exec_begin(exec_id, hosts, max_conns=64, idle_ms=60000, byte_cap=0):
    body = s16(exec_id) + struct.pack(">IIQH", max_conns, idle_ms, byte_cap, len(hosts))
    for h in hosts:
        body += s16(h)
    return frame(EXEC_BEGIN, body)


def exec_end(exec_id):
    return frame(EXEC_END, s16(exec_id))


def conn(exec_id):
    return frame(CONN, s16(exec_id))


class Reader:
    """Bounded reader: every getter raises instead of reading past the end."""

    def __init__(self, data):
        self.d, self.o = data, 0

    def take(self, n):
        if self.o + n > len(self.d):
            raise ValueError("short message")
        b = self.d[self.o:self.o + n]
        self.o += n
        return b

    def u(self, fmt):
        return struct.unpack(">" + fmt, self.take(struct.calcsize(">" + fmt)))[0]

    def s(self):
        return self.take(self.u("H")).decode()


def decode(data):
    r = Reader(data)
    mtype, reserved, length = r.u("H"), r.u("H"), r.u("I")
    assert reserved == 0 and length == len(data) - 8, "bad header %r" % data[:8]
    m = {"type": mtype}
    if mtype == READY:
        m["version"] = r.u("I")
    elif mtype == REPORT:
        m.update(exec_id=r.s(), serial=r.u("I"), verdict=VERDICTS[r.u("B")], proto=PROTOS[r.u("B")],
                 port=r.u("H"), host=r.s(), address=r.s(), reason=r.s(), bytes_up=r.u("Q"), bytes_down=r.u("Q"))
    elif mtype == EXEC_DONE:
        m.update(exec_id=r.s(), allowed=r.u("I"), denied=r.u("I"), bytes_up=r.u("Q"), bytes_down=r.u("Q"))
    elif mtype == ERROR:
        m.update(for_type=r.u("H"), exec_id=r.s(), message=r.s())
    else:
        raise ValueError("unexpected message type %#x" % mtype)
    assert r.o == len(data), "trailing bytes"
    return m


class Proxy:
    """A running cscd-egress with the control socket's daemon end; a thread
    collects every message it sends."""

    def __init__(self, binary, user=None, stderr_path=None):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = [binary, "--control-fd", str(theirs.fileno())] + (["--user", user] if user else [])
        self.stderr_path = stderr_path
        self.errf = open(stderr_path, "ab") if stderr_path else None
        self.proc = subprocess.Popen(argv, pass_fds=[theirs.fileno()], stderr=self.errf)
        theirs.close()
        self.msgs, self.cond, self.closed = [], threading.Condition(), False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        assert self.wait(lambda m: m["type"] == READY, 10), "no READY from cscd-egress"

    def _read(self):
        while True:
            try:
                data = self.sock.recv(1 << 17)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.msgs.append(decode(data))
                self.cond.notify_all()

    def send(self, data, fds=()):
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.send(data)

    def wait(self, pred, timeout=10):
        """The first message (in order) that pred accepts, or None."""
        end = time.time() + timeout
        with self.cond:
            while True:
                for m in self.msgs:
                    if pred(m):
                        return m
                left = end - time.time()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(left)

    def wait_closed(self, timeout=10):
        end = time.time() + timeout
        with self.cond:
            while not self.closed and time.time() < end:
                self.cond.wait(end - time.time())
            return self.closed

    def reports(self, exec_id):
        with self.cond:
            return [m for m in self.msgs if m["type"] == REPORT and m["exec_id"] == exec_id]

    def stop(self):
        try:  # shutdown first: the reader thread's recv() holds the socket open past close()
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.errf:
            self.errf.close()
        return self.proc.returncode


class Listener:
    """The sandbox side's listening socket: every connection it accepts goes to
    the proxy for one execution, as cscd will pass them."""

    def __init__(self, proxy, exec_id, host="127.0.0.1"):
        self.proxy, self.exec_id = proxy, exec_id
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                self.proxy.send(conn(self.exec_id), [c.fileno()])
            except OSError:
                pass
            c.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
