"""Client: the requests of cscd's wire protocol over its Unix socket, one
connection per request. submit() yields typed events as the daemon sends
them; run() collects them into a RunResult."""
import base64
import json
import os
import socket
import struct
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Union

from .errors import CscdUnavailable, ProtocolError, error_for

DEFAULT_SOCKET = "/run/csc.sock"
MAX_FRAME = 16 * 1024 * 1024   # cscd's replies: receipts <= 1 MiB, output chunks small


@dataclass
class Decision:
    """The PolicyDecision: decision (allow | deny | needs_approval), reasons, reason_codes, ..."""
    decision: dict

    @property
    def verdict(self) -> str:
        return self.decision["decision"]


@dataclass
class Started:
    command_id: str


@dataclass
class Output:
    command_id: str
    stream: str          # "stdout" or "stderr"
    data: bytes


@dataclass
class Exit:
    command_id: str
    exit_code: int


@dataclass
class Receipt:
    """The signed ExecutionReceipt; always the last event of a submit."""
    receipt: dict

    @property
    def status(self) -> str:
        return self.receipt["status"]


Event = Union[Decision, Started, Output, Exit, Receipt]


@dataclass
class RunResult:
    status: str                      # success | failed | blocked | needs_approval
    decision: dict
    receipt: dict
    exit_code: Optional[int]
    stdout: bytes = b""
    stderr: bytes = b""
    events: List[Event] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return self.receipt.get("error") or (self.decision.get("reasons") or [""])[0]


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ProtocolError("duplicate key %r in a frame from cscd" % k)
        seen[k] = v
    return seen


def _approval_value(a):
    if isinstance(a, dict):
        return a
    with open(a, "rb") as f:
        return json.loads(f.read(), object_pairs_hook=_no_duplicates)


class Client:
    """A client of one cscd socket: socket argument, else $CSC_SOCKET, else /run/csc.sock.
    timeout: seconds a single read may wait (None: as long as the command runs)."""

    def __init__(self, socket: Optional[str] = None, timeout: Optional[float] = None):
        self.socket_path = socket or os.environ.get("CSC_SOCKET") or DEFAULT_SOCKET
        self.timeout = timeout

    # -- transport ----------------------------------------------------------
    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.socket_path)
        except OSError as e:
            s.close()
            raise CscdUnavailable(e.errno, "cannot reach cscd at %s: %s" % (self.socket_path, e.strerror)) from None
        return s

    @staticmethod
    def _send(s, obj):
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
        s.sendall(struct.pack(">I", len(data)) + data)

    @staticmethod
    def _recv_exact(s, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = s.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise CscdUnavailable("cscd closed the connection")
            buf += chunk
        return bytes(buf)

    def _recv(self, s):
        (n,) = struct.unpack(">I", self._recv_exact(s, 4))
        if n == 0 or n > MAX_FRAME:
            raise ProtocolError("frame length %d from cscd" % n)
        frame = json.loads(self._recv_exact(s, n), object_pairs_hook=_no_duplicates)
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ProtocolError("a frame from cscd without a type")
        if frame["type"] == "error":
            raise error_for(frame)
        return frame

    def _request(self, obj, want):
        with self._connect() as s:
            self._send(s, obj)
            frame = self._recv(s)
        if frame["type"] != want:
            raise ProtocolError("expected a %r frame, got %r" % (want, frame["type"]))
        return frame

    # -- requests -----------------------------------------------------------
    def submit(self, contract: dict, approvals=None, env: Optional[dict] = None) -> Iterator[Event]:
        """Submits a contract; yields Decision, then per command Started, Output*, Exit, and finally
        Receipt. approvals: approval artifacts (dicts or file paths). env: {NAME: value} for the
        names in the commands' env_allow. Closing the iterator early cancels the execution (cscd
        kills the sandbox and still logs the receipt). Raises a CscdError subclass on an error frame."""
        req = {"type": "submit", "contract": contract}
        if approvals:
            req["approvals"] = [_approval_value(a) for a in approvals]
        if env:
            req["env"] = dict(env)
        s = self._connect()
        try:
            self._send(s, req)
            while True:
                f = self._recv(s)
                t = f["type"]
                if t == "decision":
                    yield Decision(f["decision"])
                elif t == "started":
                    yield Started(f["command_id"])
                elif t == "output":
                    yield Output(f["command_id"], f["stream"], base64.b64decode(f["data"], validate=True))
                elif t == "exit":
                    yield Exit(f["command_id"], f["exit_code"])
                elif t == "receipt":
                    yield Receipt(f["receipt"])
                    return
        finally:
            s.close()

    def run(self, contract: dict, approvals=None, env: Optional[dict] = None) -> RunResult:
        """submit() collected: status (needs_approval when the decision asked for approval),
        exit code, stdout and stderr bytes, the decision and the signed receipt."""
        events, out, err = [], bytearray(), bytearray()
        decision, receipt = {}, None
        for ev in self.submit(contract, approvals=approvals, env=env):
            events.append(ev)
            if isinstance(ev, Decision):
                decision = ev.decision
            elif isinstance(ev, Output):
                (out if ev.stream == "stdout" else err).extend(ev.data)
            elif isinstance(ev, Receipt):
                receipt = ev.receipt
        status = receipt["status"]
        if status not in ("success", "failed"):
            status = "needs_approval" if decision.get("decision") == "needs_approval" else "blocked"
        return RunResult(status, decision, receipt, receipt.get("exit_code"), bytes(out), bytes(err), events)

    def check(self, contract: dict) -> dict:
        """The PolicyDecision the live policy makes for contract, without running it."""
        return self._request({"type": "check", "contract": contract}, "decision")["decision"]

    def policy(self) -> dict:
        """What the live policy lets this user do (the `policy` reply without its type)."""
        f = self._request({"type": "policy"}, "policy")
        f.pop("type")
        return f

    def status(self) -> dict:
        f = self._request({"type": "status"}, "status")
        f.pop("type")
        return f

    def pubkeys(self) -> List[dict]:
        """[{key_id, algorithm, public_key (base64)}]"""
        return self._request({"type": "pubkeys"}, "pubkeys")["keys"]
