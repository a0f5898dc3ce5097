#!/usr/bin/env python3
"""The bash completion offers every command `cscctl --help` lists and, for
each command, every option its `--help` names (and no option it does not).
Runs the real completion function in bash with minimal stand-ins for
bash-completion's _init_completion and _filedir.
usage: test_completion.py CSCCTL COMPLETION_FILE"""
import re, subprocess, sys

cscctl, comp = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(ok, what):
    global passed, failed
    print(("ok - " if ok else "not ok - ") + what)
    passed, failed = passed + ok, failed + (not ok)


def complete(words):
    """COMPREPLY for the command line `words` (the last one is being typed)."""
    script = r'''
_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
_filedir() { COMPREPLY=(FILES); }
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_cscctl
printf '%s\n' "${COMPREPLY[@]}"
'''
    p = subprocess.run(["bash", "-c", script, "bash", comp] + words, capture_output=True, text=True)
    return set(p.stdout.split())


help_text = subprocess.run([cscctl, "--help"], capture_output=True, text=True).stdout
commands = re.findall(r"^  ([a-z][a-z-]+) ", help_text.split("commands:")[1].split("options:")[0], re.M)
check(len(commands) >= 12, "cscctl --help lists the commands (%d)" % len(commands))
offered = complete(["cscctl", ""])
check(set(commands) <= offered, "every command completes (missing: %s)" % sorted(set(commands) - offered))
check({"--socket", "--help", "--version"} <= offered, "global options complete")
for cmd in commands:
    usage = subprocess.run([cscctl, cmd, "--help"], capture_output=True, text=True).stdout
    # The options of this command: in its usage line(s) and the option list
    # (lines starting with an option), not those of other commands in prose.
    synopsis = usage.split("\n")[0] + "\n" + "\n".join(l for l in usage.splitlines() if l.startswith("       "))
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", synopsis))
    documented |= set(re.findall(r"^\s+(--[a-z][a-z-]*)", usage, re.M)) | {"--help"}
    got = {o for o in complete(["cscctl", cmd, "--"]) if o.startswith("--")}
    check(documented == got, "%s: completion offers exactly its options (missing %s, extra %s)"
          % (cmd, sorted(documented - got), sorted(got - documented)))
check("-" in complete(["cscctl", "submit", "-"]), "submit completes - (the contract from stdin)")
check(complete(["cscctl", "hash", ""]) == {"contract", "policy"}, "hash completes its kinds")
print("completion: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
