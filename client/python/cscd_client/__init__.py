"""cscd_client — a standard-library client for cscd.

cscd runs command contracts for AI agents in a per-request kernel sandbox as
the calling user and ends each one with an Ed25519-signed receipt. This
package speaks its wire protocol (a 4-byte big-endian length, then one JSON
object) over the Unix socket.

    from cscd_client import Client, build_contract
    c = Client()
    contract, env = build_contract(argv=["git", "status"], cwd="/srv/repo",
                                   read_paths=["/srv/repo"], intent="see the tree")
    result = c.run(contract, env=env)
    print(result.status, result.exit_code, result.stdout.decode())
"""
from .client import (Client, Decision, Started, Output, Exit, Receipt, RunResult, DEFAULT_SOCKET)
from .contract import build_contract
from .errors import (CscdError, CscdUnavailable, ProtocolError, BadFrame, TooLarge, BadJson, InvalidContract,
                     InvalidApproval, Unauthorized, Busy, Internal, error_for)
from .receipt import verify_receipt, canonical_json

__all__ = [
    "Client", "Decision", "Started", "Output", "Exit", "Receipt", "RunResult", "DEFAULT_SOCKET",
    "build_contract", "verify_receipt", "canonical_json",
    "CscdError", "CscdUnavailable", "ProtocolError", "BadFrame", "TooLarge", "BadJson", "InvalidContract",
    "InvalidApproval", "Unauthorized", "Busy", "Internal", "error_for",
]
__version__ = "0.1.0"
