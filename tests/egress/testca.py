"""testca — a throw-away certificate authority for the egress tests: a CA and
one server certificate for the test's names, made by openssl in a work dir."""
import os, subprocess


def make_ca(work, names, label):
    """Writes ca.pem, srv.pem and srv.key in work; returns the CA's path.
    names: the server certificate's DNS names (the first is its CN)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=work, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=%s" % label)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "srv.key",
            "-out", "srv.csr", "-subj", "/CN=%s" % names[0])
    with open(os.path.join(work, "ext.cnf"), "w") as f:
        f.write("subjectAltName=%s\n" % ",".join("DNS:" + n for n in names))
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    os.chmod(os.path.join(work, "ca.pem"), 0o644)
    return os.path.join(work, "ca.pem")


def start_server(srv, work, tls):
    """Serves srv (an HTTP server) from a thread, with TLS from make_ca's
    certificate when tls; returns its port."""
    import ssl, threading
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(work, "srv.pem"), os.path.join(work, "srv.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]
