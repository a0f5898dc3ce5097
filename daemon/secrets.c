/* secrets.c — reading secret files safely. */
#include "secrets.h"

#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

static bool name_ok(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 128 || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '.' || s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

void cscd_secrets_free(cscd_secret *s, size_t n) {
        for (size_t i = 0; s && i < n; i++) {
                free(s[i].name);
                if (s[i].value) {
                        sodium_memzero(s[i].value, s[i].len);
                        free(s[i].value);
                }
        }
        free(s);
}

int cscd_secrets_load(const char *dir, const csc_contract *c, cscd_secret **ret, size_t *n, char *why,
                      size_t why_size) {
        *ret = NULL;
        *n = 0;
        size_t total = 0;
        for (size_t i = 0; i < c->n_commands; i++)
                total += c->commands[i].secret_refs.n;
        if (total == 0)
                return 0;
        int dfd = safe_openat2(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        struct stat st;
        if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077)) {
                snprintf(why, why_size, "secrets are unavailable: secrets_dir %.200s %s", dir,
                         dfd < 0 ? "cannot be opened" : "must be owned by root with mode 0700");
                if (dfd >= 0)
                        close(dfd);
                return 1;
        }
        cscd_secret *v = calloc(total, sizeof *v);
        if (!v) {
                close(dfd);
                return -ENOMEM;
        }
        size_t k = 0;
        int r = 0;
        for (size_t i = 0; i < c->n_commands && r == 0; i++)
                for (size_t j = 0; j < c->commands[i].secret_refs.n && r == 0; j++) {
                        const char *name = c->commands[i].secret_refs.v[j];
                        if (!name_ok(name)) {
                                snprintf(why, why_size, "secret name '%.64s' of command '%.64s' is not [A-Za-z0-9._-]{1,128}",
                                         name, c->commands[i].id);
                                r = 1;
                                break;
                        }
                        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CSCD_SECRET_MAX_BYTES) {
                                snprintf(why, why_size, "unknown secret '%.64s' (command '%.64s')", name, c->commands[i].id);
                                if (fd >= 0)
                                        close(fd);
                                r = 1;
                                break;
                        }
                        /* A secret another user could read is no secret: refuse it rather than hand it on. */
                        if (st.st_uid != 0 || ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400)) {
                                snprintf(why, why_size,
                                         "secret '%.64s' is refused: its file must be owned by root with mode 0600 or 0400 "
                                         "(it is uid %u, mode %04o)", name, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                                close(fd);
                                r = 1;
                                break;
                        }
                        cscd_secret *s = &v[k++];
                        s->name = strdup(name);
                        s->value = malloc((size_t)st.st_size + 1);
                        s->command = i;
                        ssize_t got = s->value ? read(fd, s->value, (size_t)st.st_size) : -1;
                        close(fd);
                        if (!s->name || got != st.st_size) {
                                r = !s->name || !s->value ? -ENOMEM : 1;
                                if (r == 1)
                                        snprintf(why, why_size, "secret '%.64s' cannot be read", name);
                                break;
                        }
                        s->len = (size_t)got;
                }
        close(dfd);
        if (r != 0) {
                cscd_secrets_free(v, k);
                return r;
        }
        *ret = v;
        *n = k;
        return 0;
}
