/* mcp_pending.c — contracts waiting for a human's approval: saved under the
 * user's state directory by hash, and found again when the agent repeats the
 * call with an approval file, so the exact approved bytes are what runs.
 * Runs as the user; nothing here is privileged. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "canon.h"
#include "contract.h"
#include "csc_limits.h"
#include "mcp_args.h"

static int mkdir_if_missing(const char *path) {
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* $XDG_STATE_HOME/csc/pending, else ~/.local/state/csc/pending; created. */
static int pending_dir(char *out, size_t size) {
        const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
        char base[4096];
        if (xdg && xdg[0] == '/')
                snprintf(base, sizeof base, "%s", xdg);
        else {
                if (!home || home[0] != '/') {
                        struct passwd *pw = getpwuid(getuid());
                        home = pw ? pw->pw_dir : NULL;
                }
                if (!home || home[0] != '/')
                        return -ENOENT;
                snprintf(out, size, "%s/.local", home);
                int r = mkdir_if_missing(out);
                if (r < 0)
                        return r;
                snprintf(base, sizeof base, "%s/.local/state", home);
        }
        int r = mkdir_if_missing(base);
        if (r < 0)
                return r;
        if ((size_t) snprintf(out, size, "%s/csc", base) >= size)
                return -ENAMETOOLONG;
        r = mkdir_if_missing(out);
        if (r < 0)
                return r;
        if ((size_t) snprintf(out, size, "%s/csc/pending", base) >= size)
                return -ENAMETOOLONG;
        return mkdir_if_missing(out);
}

int mcp_pending_save(const mcp_input *in, char *ret_path, size_t path_size) {
        char dir[4096], tmp[4200], path[4200];
        int r = pending_dir(dir, sizeof dir);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "%s/%s.json", dir, in->contract_sha256);
        snprintf(tmp, sizeof tmp, "%s/.%s.json.tmp", dir, in->contract_sha256);
        csc_buf b = CSC_BUF_INIT;
        r = csc_json_write_pretty(in->contract, &b);
        r = r ?: csc_buf_putc(&b, '\n');
        int fd = r < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (r >= 0 && fd < 0)
                r = -errno;
        if (r >= 0 && write(fd, b.data, b.len) != (ssize_t) b.len)
                r = -EIO;
        if (fd >= 0 && close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0 && fd >= 0)
                unlink(tmp);
        csc_buf_free(&b);
        if (r >= 0 && (size_t) snprintf(ret_path, path_size, "%s", path) >= path_size)
                r = -ENAMETOOLONG;
        return r;
}

/* Canonical bytes of a contract without contract_id and actor. */
static int comparable(const csc_json *contract, csc_buf *out) {
        csc_json_doc *d = csc_json_doc_new();
        csc_json *c = d ? csc_json_copy(d, contract) : NULL;
        int r = c ? 0 : -ENOMEM;
        if (!r) {
                csc_json_object_remove(c, "contract_id");
                csc_json_object_remove(c, "actor");
                r = csc_canon_write(c, out);
        }
        csc_json_doc_free(d);
        return r;
}

static bool is_hex64(const char *s) {
        if (!s || strlen(s) != 64)
                return false;
        for (size_t i = 0; i < 64; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

/* 1 when the saved contract of this hash is the same call; *ret its value in in->doc. */
static int try_saved(mcp_input *in, const char *dir, const char *sha, const csc_buf *want) {
        char path[4200], lower[65];
        for (size_t i = 0; i < 65; i++)
                lower[i] = (char) tolower((unsigned char) sha[i]);
        snprintf(path, sizeof path, "%s/%s.json", dir, lower);
        char *data = NULL;
        size_t len = 0;
        if (csc_read_file(path, CSC_CONTRACT_MAX_BYTES, &data, &len) < 0)
                return 0;
        csc_json_doc *sd = NULL;
        int r = csc_json_parse(data, len, &sd, NULL);
        free(data);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        csc_buf have = CSC_BUF_INIT;
        r = comparable(csc_json_doc_root(sd), &have);
        bool same = r >= 0 && have.len == want->len && memcmp(have.data, want->data, have.len) == 0;
        char hex[65];
        if (same && (r = csc_contract_sha256(csc_json_doc_root(sd), hex)) >= 0 && strcmp(hex, lower) == 0) {
                csc_json *c = csc_json_copy(in->doc, csc_json_doc_root(sd));
                r = c ? 1 : -ENOMEM;
                if (c) {
                        in->contract = c;
                        memcpy(in->contract_sha256, hex, sizeof hex);
                }
        } else if (r >= 0)
                r = 0;
        csc_buf_free(&have);
        csc_json_doc_free(sd);
        return r;
}

int mcp_pending_match(mcp_input *in) {
        if (!in->approvals)
                return 0;
        char dir[4096];
        if (pending_dir(dir, sizeof dir) < 0)
                return 0;   /* nothing saved anywhere: the daemon judges the approval */
        csc_buf want = CSC_BUF_INIT;
        int r = comparable(in->contract, &want);
        for (size_t i = 0; r >= 0 && i < in->approvals->array.count; i++) {
                const char *sha = csc_json_get_str(in->approvals->array.items[i], "contract_sha256");
                if (!is_hex64(sha) || strcasecmp(sha, in->contract_sha256) == 0)
                        continue;
                r = try_saved(in, dir, sha, &want);
                if (r != 0)
                        break;
        }
        csc_buf_free(&want);
        return r;
}
