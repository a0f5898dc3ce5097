"""Runs INSIDE the sandbox (as the test user, python3 from /usr/bin) for
tests/egress/test_sandbox_egress.py: exact bytes to the proxy, direct socket
attempts, and TLS with a chosen SNI through a CONNECT tunnel. Prints one
result line per action; never raises for the outcome being probed.

usage: sandbox_probe.py ACTION ARGS..."""
import errno, socket, ssl, sys

PROXY = ("127.0.0.1", 3128)


def err(e):
    return "ERR %s %s" % (errno.errorcode.get(e.errno, e.errno) if getattr(e, "errno", None) else type(e).__name__, e)


def read_all(s):
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    return out


def raw(request):
    """Sends request (Python string escapes allowed) to the proxy, prints the reply."""
    s = socket.create_connection(PROXY, timeout=30)
    s.sendall(request.encode().decode("unicode_escape").encode("latin-1"))
    sys.stdout.write(read_all(s).decode("latin-1"))


def sni(host, port, name, cafile):
    s = socket.create_connection(PROXY, timeout=30)
    s.sendall(b"CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n" % (host.encode(), port.encode(), host.encode(),
                                                                 port.encode()))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    print("CONNECT-REPLY %s" % head.split(b"\r\n")[0].decode("latin-1"))
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        t = ctx.wrap_socket(s, server_hostname=name)
        t.sendall(b"GET /sni HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % name.encode())
        print("HANDSHAKE-OK %r" % read_all(t)[-40:])
    except (ssl.SSLError, OSError) as e:
        print("CLOSED %s" % err(e))


def tcp(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((host, int(port)))
        print("CONNECTED")
    except OSError as e:
        print(err(e))


def udp(host, port):
    """A DNS query for dnsonly.test to host:port; waits 3 s for any reply."""
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07dnsonly\x04test\x00\x00\x01\x00\x01"
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, (host, int(port)))
        s.recv(512)
        print("REPLY")
    except socket.timeout:
        print("NOREPLY")
    except OSError as e:
        print(err(e))


def mksocket(family, tag):
    kinds = {"inet": (socket.AF_INET, socket.SOCK_STREAM, 0), "inet6": (socket.AF_INET6, socket.SOCK_STREAM, 0),
             "raw": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
             "packet": (socket.AF_PACKET, socket.SOCK_RAW, 0), "netlink": (socket.AF_NETLINK, socket.SOCK_RAW, 0),
             "vsock": (socket.AF_VSOCK, socket.SOCK_STREAM, 0)}
    try:
        socket.socket(*kinds[family]).close()
        print("%s SOCKET-OK" % tag)
    except OSError as e:
        print("%s %s" % (tag, err(e)))


def bind():
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        print("LISTENING %d" % s.getsockname()[1])
    except OSError as e:
        print(err(e))


ACTIONS = {"raw": raw, "sni": sni, "tcp": tcp, "udp": udp, "socket": mksocket, "bind": bind}
if __name__ == "__main__":
    ACTIONS[sys.argv[1]](*sys.argv[2:])
    sys.stdout.flush()
