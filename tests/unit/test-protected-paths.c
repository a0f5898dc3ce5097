/* test-protected-paths.c — the pure rules of protected paths: which entries
 * the config accepts, which declared paths lie in a protected name, and the
 * unlock rule (the contract's exact write path AND a policy prefix at or
 * inside the protected name; a parent prefix never unlocks). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protected_paths.h"
#include "tap.h"

static const char *const dflt[] = { ".git/hooks", ".git/config", ".bashrc", ".config/git", ".ssh" };
#define N_DFLT (sizeof dflt / sizeof *dflt)

static void match(const char *path, const char *want) {
        char out[4096];
        bool got = pp_name_match(path, dflt, N_DFLT, out, sizeof out);
        CHECK(want ? got && strcmp(out, want) == 0 : !got, "%s: want %s, got %s", path, want ? want : "(none)",
              got ? out : "(none)");
}

typedef struct unlock_case {
        const char *protected_path, *write_path;
        const char *prefixes[3];
        bool want;
        const char *why;
} unlock_case;

static const unlock_case unlock_cases[] = {
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { "/w/r/.git/hooks" }, true, "exact path and exact prefix" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { "/w/r" }, false, "a parent prefix is not enough" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { "/w/r/.git" }, false, "a nearer parent is not enough either" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { "/" }, false, "nor the root" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { NULL }, false, "no prefix at all" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks/pre-commit", { "/w/r/.git/hooks/pre-commit" }, true,
          "a path inside, named by both" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks/pre-commit", { "/w/r/.git/hooks" }, true,
          "a path inside, the prefix naming the protected path" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { "/w/r/.git/hooks/pre-commit" }, false,
          "a prefix inside does not unlock the whole protected path" },
        { "/w/r/.git/hooks", "/w/r", { "/w/r/.git/hooks" }, false, "the write path must be at or inside it" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks2", { "/w/r/.git/hooks2" }, false, "a sibling with a longer name" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { "/w/r/.git/hook" }, false, "a prefix of the name, as text" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks", { "/w/x", "/w/r/.git/hooks" }, true, "any listed prefix" },
        { "/w/r/.git/hooks", "/w/r/.git/hooks//", { "/w/r/.git/hooks/" }, true, "normalized slashes" },
        { "/home/u/.bashrc", "/home/u/.bashrc", { "/home/u/.bashrc" }, true, "a file" },
        { "/home/u/.bashrc", "/home/u/.bashrc", { "/home/u" }, false, "a file under a parent prefix" },
};

int main(void) {
        char why[128];
        static const char *const good[] = { ".bashrc", ".git/hooks", ".config/git", "a.b/c..d", "...", "x" };
        for (size_t i = 0; i < sizeof good / sizeof *good; i++)
                CHECK(pp_entry_check(good[i], why, sizeof why) == 0, "entry %s: %s", good[i], why);
        static const char *const bad[] = { "", "/etc", "..", ".", "a/..", "../a", "a/./b", "a//b", "a/", "/" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                CHECK(pp_entry_check(bad[i], why, sizeof why) == -EINVAL, "entry '%s' must be refused", bad[i]);
        for (size_t i = 0; pp_default_entries[i]; i++)
                CHECK(pp_entry_check(pp_default_entries[i], why, sizeof why) == 0, "default %s", pp_default_entries[i]);

        match("/home/u/.bashrc", "/home/u/.bashrc");
        match("/home/u/.bashrc.d", NULL);
        match("/home/u/x.bashrc", NULL);
        match("/w/r/.git/hooks", "/w/r/.git/hooks");
        match("/w/r/.git/hooks/pre-commit", "/w/r/.git/hooks");
        match("/w/r/.git", NULL);
        match("/w/r/.git/objects", NULL);
        match("/w/r/.git/configx", NULL);
        match("/w/r/.gitx/hooks", NULL);
        match("/home/u/.config/git/config", "/home/u/.config/git");
        match("/home/u/.config", NULL);
        match("/home/u/.ssh/authorized_keys", "/home/u/.ssh");
        match("/a/.ssh/b/.git/hooks/c", "/a/.ssh");   /* the shortest protected ancestor */
        match("/", NULL);
        match("relative/.bashrc", NULL);

        for (size_t i = 0; i < sizeof unlock_cases / sizeof *unlock_cases; i++) {
                const unlock_case *u = &unlock_cases[i];
                size_t n = 0;
                while (n < 3 && u->prefixes[n])
                        n++;
                CHECK(pp_unlocks(u->protected_path, u->write_path, u->prefixes, n) == u->want, "%s", u->why);
        }
        return tap_done("protected paths");
}
