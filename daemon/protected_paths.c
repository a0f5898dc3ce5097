/* protected_paths.c — the pure rules of protected paths (see the header). */
#include "protected_paths.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "path.h"

const char *const pp_default_entries[] = {
        ".git/hooks", ".git/config", ".gitmodules", ".bashrc", ".bash_profile", ".profile",
        ".zshrc", ".zprofile", ".config/git", ".ssh", ".gnupg", ".npmrc", ".pypirc", ".netrc",
        ".mcp.json", ".envrc", ".vscode", ".idea", NULL,
};

int pp_entry_check(const char *entry, char *why, size_t why_size) {
        const char *bad = NULL;
        if (!entry || !*entry)
                bad = "is empty";
        else if (entry[0] == '/')
                bad = "must be relative (no leading '/')";
        else if (strlen(entry) > 255)
                bad = "is longer than 255 bytes";
        else if (entry[strlen(entry) - 1] == '/')
                bad = "must not end with '/'";
        for (const char *s = entry; !bad && s && *s;) {
                const char *e = strchr(s, '/');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (len == 0)
                        bad = "has an empty segment";
                else if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                        bad = "must not contain '.' or '..' segments";
                s = e ? e + 1 : NULL;
        }
        if (!bad)
                return 0;
        snprintf(why, why_size, "%s", bad);
        return -EINVAL;
}

/* Does the component run starting at `at` (components end at '/' or NUL)
 * equal entry's components? */
static bool run_matches(const char *at, const char *entry, const char **ret_end) {
        size_t n = strlen(entry);
        if (strncmp(at, entry, n) != 0 || (at[n] != 0 && at[n] != '/'))
                return false;
        *ret_end = at + n;
        return true;
}

bool pp_name_match(const char *path, const char *const *entries, size_t n, char *out, size_t out_size) {
        if (!path || path[0] != '/')
                return false;
        const char *best = NULL;
        for (const char *at = path + 1; *at;) {
                for (size_t i = 0; i < n; i++) {
                        const char *end;
                        if (run_matches(at, entries[i], &end) && (!best || end < best))
                                best = end;
                }
                const char *slash = strchr(at, '/');
                if (!slash)
                        break;
                at = slash + 1;
        }
        if (!best || (size_t)(best - path) >= out_size)
                return false;
        memcpy(out, path, (size_t)(best - path));
        out[best - path] = 0;
        return true;
}

bool pp_unlocks(const char *protected_path, const char *write_path, const char *const *prefixes, size_t n) {
        if (!csc_path_under(write_path, protected_path))
                return false;
        for (size_t i = 0; i < n; i++)
                if (csc_path_under(prefixes[i], protected_path) && csc_path_under(write_path, prefixes[i]))
                        return true;
        return false;
}
