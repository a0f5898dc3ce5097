"""build_contract(): a CSC v0.1 contract from the same arguments as the MCP
tool csc_run, so a Python agent and an MCP agent describe commands alike."""
import getpass
import os
import uuid


def build_contract(argv=None, *, pipeline=None, cwd=None, read_paths=(), write_paths=(), network="deny",
                   env=None, secret_refs=(), timeout_sec=60, effect="observe", intent, justification=None,
                   risk_class="low", approval_mode="policy_only", agent_id="cscd_client", session_id=None,
                   initiating_user=None, delegation_scope="python"):
    """Returns (contract, env): env is the {NAME: value} dict to pass to submit()/run() (its names
    are the command's env_allow). Give argv (one command) or pipeline (a list of argvs)."""
    if (argv is None) == (pipeline is None):
        raise ValueError("give argv or pipeline, not both or neither")
    if argv is not None and (isinstance(argv, str) or not argv):
        raise ValueError("argv: a non-empty list of strings (no shell)")
    if pipeline is not None and (len(pipeline) < 2 or any(isinstance(a, str) or not a for a in pipeline)):
        raise ValueError("pipeline: at least 2 non-empty argv lists")
    if not intent:
        raise ValueError("intent: required")
    env = dict(env or {})
    cmd = {
        "id": "cmd_1",
        "cwd": cwd or os.getcwd(),
        "read_paths": list(read_paths),
        "write_paths": list(write_paths),
        "network": network,
        "env_allow": list(env),
        "secret_refs": list(secret_refs),
        "timeout_sec": timeout_sec,
        "proposed_effect_type": effect,
    }
    if argv is not None:
        cmd["exec"] = {"argv": list(argv)}
    else:
        cmd["pipeline"] = {"segments": [{"argv": list(a)} for a in pipeline]}
    contract = {
        "version": "csc.v0.1",
        "contract_id": "py-%s" % uuid.uuid4(),
        "intent": intent,
        "justification": justification or intent,
        "actor": {"agent_id": agent_id, "session_id": session_id or "py-%s" % uuid.uuid4(),
                  "initiating_user": initiating_user or _user(), "delegation_scope": delegation_scope},
        "commands": [cmd],
        "risk_class": risk_class,
        "approval_mode": approval_mode,
    }
    return contract, env


def _user():
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry and no $USER
        return "uid-%d" % os.getuid()
