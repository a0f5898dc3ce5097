"""test_agent_docs — each host configuration in docs/agents.md (the block
after a `<!-- check: NAME -->` marker) parses as its language, names cscctl
with `mcp` as its command, and that command line really serves MCP: it is
started (with the built cscctl) and answers initialize and tools/list.
usage: test_agent_docs.py CSCCTL DOCS_DIR. Prints "agent docs: N passed, N failed"."""
import ast, json, os, re, subprocess, sys, tomllib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from cscproto import Tally  # noqa: E402

CSCCTL, DOCS = sys.argv[1], sys.argv[2]
EXPECTED = {"claude-code": "json", "codex": "toml", "openai-agents": "python", "langgraph": "python"}


def blocks(text):
    return {m.group(1): (m.group(2), m.group(3)) for m in
            re.finditer(r"<!-- check: ([a-z-]+) -->\n```(\w+)\n(.*?)\n```", text, re.S)}


def python_server(src):
    """The dict literal in the code that has "command" and "args" (MCPServerStdio params, or a
    MultiServerMCPClient connection)."""
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Dict):
            d = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
            if "command" in d and "args" in d:
                return {"command": ast.literal_eval(d["command"]), "args": ast.literal_eval(d["args"])}
    return None


def serves_mcp(command, args):
    """Starts the configured command line (cscctl → the built one) and speaks MCP to it."""
    argv = [CSCCTL if command == "cscctl" else command] + args
    msgs = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "docs", "version": "0"}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    p = subprocess.run(argv, input="".join(json.dumps(m) + "\n" for m in msgs), capture_output=True, text=True,
                       timeout=30, env={"PATH": "/usr/bin:/bin", "HOME": "/", "USER": "nobody"})
    replies = [json.loads(l) for l in p.stdout.splitlines()]
    return (p.returncode == 0 and len(replies) == 2 and replies[0]["result"]["serverInfo"]["name"] == "cscd" and
            len(replies[1]["result"]["tools"]) == 6), p.stderr


def main():
    t = Tally()
    with open(os.path.join(DOCS, "agents.md"), encoding="utf-8") as f:
        found = blocks(f.read())
    t.check(set(found) == set(EXPECTED), "docs/agents.md has a checked config for each host", sorted(found))
    for name, lang in EXPECTED.items():
        if name not in found:
            continue
        got_lang, src = found[name]
        t.check(got_lang == lang, "%s: a %s block" % (name, lang), got_lang)
        try:
            if lang == "json":
                server = json.loads(src)["mcpServers"]["cscd"]
            elif lang == "toml":
                server = tomllib.loads(src)["mcp_servers"]["cscd"]
                t.check(isinstance(server.get("tool_timeout_sec"), int), "codex: tool_timeout_sec is set")
            else:
                server = python_server(src)
            t.check(server and server["command"] == "cscctl" and server["args"][-1] == "mcp",
                    "%s: parses and names cscctl ... mcp" % name, server)
            ok, err = serves_mcp(server["command"], server["args"])
            t.check(ok, "%s: the configured command serves MCP" % name, err[-1000:])
        except Exception as e:  # noqa: BLE001
            t.check(False, "%s: parses" % name, repr(e))
    print("agent docs: %d passed, %d failed" % (t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
