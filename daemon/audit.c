/* audit.c — receipts.jsonl and the journal. */
#include "audit.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
/* No CODE_FILE/CODE_LINE/CODE_FUNC: they would publish the build path. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "canon.h"
#include "csc_limits.h"

typedef struct refusal_slot {
        uid_t uid;
        bool used;
        uint64_t window_start;    /* CLOCK_MONOTONIC seconds */
        unsigned logged, suppressed;
} refusal_slot;

struct cscd_audit {
        int fd;
        int dfd;                  /* the state dir: reopen by name relative to it */
        bool torn;
        bool need_newline;
        bool journal;             /* stderr is journald's stream (else plain stderr lines) */
        uint64_t torn_offset;
        refusal_slot refused[CSC_AUDIT_REFUSED_UIDS];
        /* group commit: lines written since the last fdatasync wait here */
        sd_event *event;
        sd_event_source *commit_src;     /* idle-priority defer: the end of the current batch */
        sd_event_source *commit_timer;   /* the backstop: CSC_AUDIT_COMMIT_MAX_DELAY_USEC */
        struct pending_commit { cscd_audit_durable_fn done; void *userdata; } *pending;
        size_t n_pending, cap_pending;
        int commit_error;         /* a sync that failed before the commit (reopen): reported by it */
};

/* systemd's convention: JOURNAL_STREAM=<dev>:<ino> names stderr's stream
 * when journald is reading it. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int cscd_audit_open(const char *state_dir, cscd_audit **ret, csc_error *err) {
        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                return csc_error_set(err, -errno, state_dir, "cannot create the state dir: %s", strerror(errno));
        int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return csc_error_set(err, -errno, state_dir, "cannot open the state dir: %s", strerror(errno));
        struct stat st;
        if (fstat(dfd, &st) < 0 || (st.st_mode & 022) || st.st_uid != geteuid()) {
                close(dfd);
                return csc_error_set(err, -EPERM, state_dir,
                                     "the state dir must be owned by cscd's user and not writable by group or others");
        }
        int fd = openat(dfd, "receipts.jsonl", O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                int e = errno;
                close(dfd);
                return csc_error_set(err, -e, state_dir, "cannot open receipts.jsonl: %s", strerror(e));
        }
        cscd_audit *a = calloc(1, sizeof *a);
        if (!a) {
                close(fd);
                close(dfd);
                return -ENOMEM;
        }
        a->fd = fd;
        a->dfd = dfd;
        a->journal = stderr_is_journal();
        off_t size = lseek(fd, 0, SEEK_END);
        if (size > 0) {
                char c;
                if (pread(fd, &c, 1, size - 1) == 1 && c != '\n') {
                        a->torn = a->need_newline = true;
                        /* find where the partial line starts */
                        off_t pos = size - 1;
                        char buf[4096];
                        a->torn_offset = 0;
                        while (pos > 0) {
                                size_t n = pos > (off_t)sizeof buf ? sizeof buf : (size_t)pos;
                                pos -= (off_t)n;
                                ssize_t got = pread(fd, buf, n, pos);
                                if (got <= 0)
                                        break;
                                char *nl = memrchr(buf, '\n', (size_t)got);
                                if (nl) {
                                        a->torn_offset = (uint64_t)(pos + (nl - buf) + 1);
                                        break;
                                }
                        }
                }
        }
        *ret = a;
        return 0;
}

cscd_audit *cscd_audit_free(cscd_audit *a) {
        if (a) {
                sd_event_source_disable_unref(a->commit_src);
                sd_event_source_disable_unref(a->commit_timer);
                sd_event_unref(a->event);
                free(a->pending);
                if (a->fd >= 0)
                        close(a->fd);
                if (a->dfd >= 0)
                        close(a->dfd);
                free(a);
        }
        return NULL;
}

bool cscd_audit_torn_tail(const cscd_audit *a, uint64_t *offset) {
        *offset = a->torn_offset;
        return a->torn;
}

int cscd_audit_reopen(cscd_audit *a) {
        int fd = openat(a->dfd, "receipts.jsonl", O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        /* Lines written to the old file but not synced yet: make them
         * durable before the descriptor goes; a failure goes to the commit. */
        if (a->n_pending > 0 && fdatasync(a->fd) < 0 && a->commit_error == 0)
                a->commit_error = -errno;
        close(a->fd);
        a->fd = fd;
        /* A file that someone else left without a final newline gets one
         * before our next line (as at start). */
        off_t size = lseek(fd, 0, SEEK_END);
        char c;
        a->need_newline = size > 0 && pread(fd, &c, 1, size - 1) == 1 && c != '\n';
        return 0;
}

/* "commands":[…], each command's id, exec or pipeline (the argv) and cwd
 * as the contract gave them, in canonical JSON. */
static int write_commands(csc_buf *b, const csc_contract *ct) {
        static const char *const keep[] = { "cwd", "exec", "id", "pipeline" };
        const csc_json *cmds = csc_json_get(ct->root, "commands");
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *arr = doc ? csc_json_new_array(doc) : NULL;
        int r = arr ? 0 : -ENOMEM;
        for (size_t i = 0; cmds && i < cmds->array.count && r == 0; i++) {
                csc_json *o = csc_json_new_object(doc);
                r = o ? 0 : -ENOMEM;
                for (size_t k = 0; k < sizeof keep / sizeof *keep && r == 0; k++) {
                        const csc_json *v = csc_json_get(cmds->array.items[i], keep[k]);
                        if (v)
                                r = csc_json_object_set(doc, o, keep[k], csc_json_copy(doc, v));
                }
                r = r ?: csc_json_array_append(doc, arr, o);
        }
        r = r ?: csc_buf_puts(b, "\"commands\":");
        r = r ?: csc_canon_write(arr, b);
        r = r ?: csc_buf_putc(b, ',');
        csc_json_doc_free(doc);
        return r;
}

/* Writes one line (no sync). */
static int write_line(cscd_audit *a, const csc_json *receipt, const csc_contract *ct, const cscd_peer_info *peer,
                      const char *extra) {
        csc_buf b = CSC_BUF_INIT;
        int r = a->need_newline ? csc_buf_putc(&b, '\n') : 0;
        r = r ?: csc_buf_putc(&b, '{');
        if (ct)
                r = r ?: write_commands(&b, ct);
        if (extra)
                r = r ?: csc_buf_puts(&b, extra);
        r = r ?: csc_buf_printf(&b, "\"peer\":{\"gid\":%u,\"pid\":%d,\"uid\":%u},\"receipt\":", (unsigned)peer->gid,
                                (int)peer->pid, (unsigned)peer->uid);
        r = r ?: csc_canon_write(receipt, &b);
        r = r ?: csc_buf_puts(&b, "}\n");
        if (r < 0) {
                csc_buf_free(&b);
                return r;
        }
        /* One write(2) with O_APPEND: concurrent readers never see a line of
         * ours interleaved; a crash can only tear the tail. */
        size_t off = 0;
        while (off < b.len) {
                ssize_t n = write(a->fd, b.data + off, b.len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -EIO;
                        break;
                }
                off += (size_t)n;
        }
        csc_buf_free(&b);
        if (r == 0)
                a->need_newline = false;
        return r;
}

int cscd_audit_append(cscd_audit *a, const csc_json *receipt, const csc_contract *ct, const cscd_peer_info *peer) {
        int r = write_line(a, receipt, ct, peer, NULL);
        if (r == 0 && fdatasync(a->fd) < 0)
                r = -errno;
        return r;
}

/* One fdatasync for every line written since the last, then each waiter is
 * told. The list is taken first: a waiter may append again (it is queued for
 * the next commit). */
static int on_commit(sd_event_source *s, void *userdata) {
        cscd_audit *a = userdata;
        (void) sd_event_source_set_enabled(a->commit_src, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->commit_timer, SD_EVENT_OFF);
        struct pending_commit *p = a->pending;
        size_t n = a->n_pending;
        a->pending = NULL;
        a->n_pending = a->cap_pending = 0;
        int r = a->commit_error;
        a->commit_error = 0;
        if (fdatasync(a->fd) < 0 && r == 0)
                r = -errno;
        for (size_t i = 0; i < n; i++)
                if (p[i].done)     /* NULL: forgotten */
                        p[i].done(p[i].userdata, r);
        free(p);
        return 0;
}

static int on_commit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return on_commit(s, userdata);
}

int cscd_audit_set_event(cscd_audit *a, sd_event *event) {
        if (a->event)
                return -EBUSY;
        int r = sd_event_add_defer(event, &a->commit_src, on_commit, a);
        if (r >= 0)
                r = sd_event_source_set_priority(a->commit_src, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_add_time(event, &a->commit_timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_commit_timer, a);
        if (r < 0) {
                a->commit_src = sd_event_source_disable_unref(a->commit_src);
                return r;
        }
        (void) sd_event_source_set_enabled(a->commit_src, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(a->commit_timer, SD_EVENT_OFF);
        a->event = sd_event_ref(event);
        return 0;
}

int cscd_audit_append_later(cscd_audit *a, const csc_json *receipt, const csc_contract *ct, const cscd_peer_info *peer,
                            const char *extra,
                            cscd_audit_durable_fn done, void *userdata) {
        if (!a->commit_src) {
                int r = write_line(a, receipt, ct, peer, extra);
                if (r < 0)
                        return r;
                done(userdata, fdatasync(a->fd) < 0 ? -errno : 0);
                return 0;
        }
        if (a->n_pending == a->cap_pending) {
                size_t cap = a->cap_pending ? a->cap_pending * 2 : 16;
                struct pending_commit *p = reallocarray(a->pending, cap, sizeof *p);
                if (!p)
                        return -ENOMEM;
                a->pending = p;
                a->cap_pending = cap;
        }
        int r = write_line(a, receipt, ct, peer, extra);
        if (r < 0)
                return r;
        a->pending[a->n_pending++] = (struct pending_commit) { done, userdata };
        if (a->n_pending > 1)
                return 0;   /* the commit is scheduled already */
        /* The first of a batch: commit when the ready events are handled
         * (idle priority), or after the backstop delay, whichever is first. */
        int q = sd_event_source_set_enabled(a->commit_src, SD_EVENT_ONESHOT);
        if (q >= 0)
                q = sd_event_source_set_time_relative(a->commit_timer, CSC_AUDIT_COMMIT_MAX_DELAY_USEC);
        if (q >= 0)
                q = sd_event_source_set_enabled(a->commit_timer, SD_EVENT_ONESHOT);
        if (q < 0)
                (void) on_commit(a->commit_src, a);   /* cannot defer: commit now */
        return 0;
}

void cscd_audit_forget(cscd_audit *a, void *userdata) {
        for (size_t i = 0; a && i < a->n_pending; i++)
                if (a->pending[i].userdata == userdata)
                        a->pending[i].done = NULL;
}

/* Appends s shell-quoted when it needs it, control bytes as \xNN. */
static void put_word(csc_buf *b, const char *s) {
        bool plain = *s != 0;
        for (const char *p = s; *p && plain; p++)
                plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *p) != NULL;
        if (plain) {
                csc_buf_puts(b, s);
                return;
        }
        csc_buf_putc(b, '\'');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '\'')
                        csc_buf_puts(b, "'\\''");
                else if (*p < 0x20 || *p == 0x7f)
                        csc_buf_printf(b, "\\x%02x", *p);
                else
                        csc_buf_putc(b, (char)*p);
        }
        csc_buf_putc(b, '\'');
}

/* CSC_ARGV: "id: argv | argv; id: argv", cut at CSC_AUDIT_ARGV_MAX. CSC_CWD:
 * the cwd, or "id: cwd; …" when the commands differ. */
static void describe(const csc_contract *ct, csc_buf *argv, csc_buf *cwd) {
        bool same_cwd = true;
        for (size_t i = 0; i < ct->n_commands; i++) {
                const csc_command *c = &ct->commands[i];
                same_cwd &= strcmp(c->cwd, ct->commands[0].cwd) == 0;
                csc_buf_printf(argv, "%s%s: ", i ? "; " : "", c->id);
                for (size_t s = 0; s < c->n_argvs; s++)
                        for (size_t k = 0; k < c->argvs[s].n; k++) {
                                if (s || k)
                                        csc_buf_puts(argv, k ? " " : " | ");
                                put_word(argv, c->argvs[s].v[k]);
                        }
        }
        if (argv->len > CSC_AUDIT_ARGV_MAX) {
                argv->len = CSC_AUDIT_ARGV_MAX;
                csc_buf_puts(argv, "...[truncated]");
        }
        for (size_t i = 0; i < ct->n_commands; i++) {
                if (same_cwd) {
                        csc_buf_puts(cwd, ct->commands[0].cwd);
                        break;
                }
                csc_buf_printf(cwd, "%s%s: %s", i ? "; " : "", ct->commands[i].id, ct->commands[i].cwd);
        }
}

void cscd_journal_decision(const cscd_audit *a, const csc_contract *ct, const char *execution_id,
                           const char *decision, const char *code, const char *reason, const cscd_peer_info *peer) {
        csc_buf argv = CSC_BUF_INIT, cwd = CSC_BUF_INIT;
        describe(ct, &argv, &cwd);
        const char *av = argv.data ? argv.data : "", *cw = cwd.data ? cwd.data : "";
        if (a && a->journal)
                sd_journal_send("MESSAGE=contract %s: %s (%s) for uid %u pid %d: %s", ct->contract_id, decision, code,
                                (unsigned)peer->uid, (int)peer->pid, av, "MESSAGE_ID=" CSCD_MESSAGE_DECISION,
                                "PRIORITY=%i", LOG_INFO, "CSC_CONTRACT_ID=%s", ct->contract_id,
                                "CSC_EXECUTION_ID=%s", execution_id, "CSC_DECISION=%s", decision,
                                "CSC_REASON_CODE=%s", code, "CSC_REASON=%s", reason, "CSC_PEER_UID=%u",
                                (unsigned)peer->uid, "CSC_PEER_PID=%d", (int)peer->pid, "CSC_ARGV=%s", av,
                                "CSC_CWD=%s", cw, NULL);
        else
                fprintf(stderr, "<6>cscd: decision: contract %s execution %s: %s (%s: %s) uid %u pid %d cwd %s argv %s\n",
                        ct->contract_id, execution_id, decision, code, reason, (unsigned)peer->uid, (int)peer->pid,
                        cw, av);
        csc_buf_free(&argv);
        csc_buf_free(&cwd);
}

void cscd_journal_receipt(const cscd_audit *a, const csc_contract *ct, const char *execution_id, const char *status,
                          int exit_code, const char *error, const cscd_peer_info *peer) {
        csc_buf argv = CSC_BUF_INIT, cwd = CSC_BUF_INIT;
        describe(ct, &argv, &cwd);
        const char *av = argv.data ? argv.data : "", *cw = cwd.data ? cwd.data : "";
        int prio = strcmp(status, "success") == 0 ? LOG_INFO : LOG_NOTICE;
        if (a && a->journal)
                sd_journal_send("MESSAGE=uid %u in %s ran %s: %s (exit %d)%s%s [execution %s, contract %s]",
                                (unsigned)peer->uid, cw, av, status, exit_code, error && *error ? ": " : "",
                                error ? error : "", execution_id, ct->contract_id,
                                "MESSAGE_ID=" CSCD_MESSAGE_RECEIPT, "PRIORITY=%i", prio, "CSC_CONTRACT_ID=%s",
                                ct->contract_id, "CSC_EXECUTION_ID=%s", execution_id, "CSC_STATUS=%s", status,
                                "CSC_EXIT_CODE=%d", exit_code, "CSC_PEER_UID=%u", (unsigned)peer->uid,
                                "CSC_PEER_PID=%d", (int)peer->pid, "CSC_ARGV=%s", av, "CSC_CWD=%s", cw, NULL);
        else
                fprintf(stderr, "<%d>cscd: receipt: execution %s of contract %s: %s (exit %d)%s%s uid %u pid %d cwd %s argv %s\n",
                        prio, execution_id, ct->contract_id, status, exit_code, error && *error ? ": " : "",
                        error ? error : "", (unsigned)peer->uid, (int)peer->pid, cw, av);
        csc_buf_free(&argv);
        csc_buf_free(&cwd);
}

static void log_refused(const cscd_audit *a, uid_t uid, pid_t pid, const char *code, const char *text) {
        /* The reason may quote the client (a request type) and comes from its session. */
        char reason[1024];
        snprintf(reason, sizeof reason, "%s", text);
        log_strip_controls(reason);
        if (a->journal)
                sd_journal_send("MESSAGE=refused a request from uid %u pid %d: %s: %s", (unsigned)uid, (int)pid, code,
                                reason, "MESSAGE_ID=" CSCD_MESSAGE_REFUSED, "PRIORITY=%i", LOG_NOTICE,
                                "CSC_PEER_UID=%u", (unsigned)uid, "CSC_PEER_PID=%d", (int)pid, "CSC_ERROR_CODE=%s",
                                code, "CSC_REASON=%s", reason, NULL);
        else
                fprintf(stderr, "<5>cscd: refused a request from uid %u pid %d: %s: %s\n", (unsigned)uid, (int)pid, code,
                        reason);
}

static void log_suppressed(const cscd_audit *a, const refusal_slot *slot) {
        if (!slot->used || !slot->suppressed)
                return;
        char msg[128];
        snprintf(msg, sizeof msg, "%u more refused requests from this uid were not logged", slot->suppressed);
        log_refused(a, slot->uid, 0, "rate_limited", msg);
}

void cscd_audit_refused(cscd_audit *a, uid_t uid, pid_t pid, const char *code, const char *reason) {
        if (!a)
                return;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec;
        /* The uid's slot, else a free one, else the one whose window began first. */
        refusal_slot *slot = NULL, *victim = NULL;
        for (size_t i = 0; i < CSC_AUDIT_REFUSED_UIDS && !slot; i++) {
                refusal_slot *s = &a->refused[i];
                if (s->used && s->uid == uid)
                        slot = s;
                else if (!victim || (victim->used && (!s->used || s->window_start < victim->window_start)))
                        victim = s;
        }
        if (!slot) {
                slot = victim;
                log_suppressed(a, slot);   /* before another uid takes the slot */
                *slot = (refusal_slot){ .uid = uid, .used = true, .window_start = now };
        }
        if (now - slot->window_start >= CSC_AUDIT_REFUSED_WINDOW_SEC) {
                log_suppressed(a, slot);
                slot->window_start = now;
                slot->logged = slot->suppressed = 0;
        }
        if (slot->logged >= CSC_AUDIT_REFUSED_BURST) {
                slot->suppressed++;
                return;
        }
        slot->logged++;
        log_refused(a, uid, pid, code, reason);
}

void cscd_journal_degraded(const cscd_audit *a, const char *layer, const char *why) {
        if (a && a->journal)
                sd_journal_send("MESSAGE=weakened layer: %s: %s", layer, why, "MESSAGE_ID=" CSCD_MESSAGE_DEGRADED,
                                "PRIORITY=%i", LOG_WARNING, "CSC_LAYER=%s", layer, "CSC_REASON=%s", why, NULL);
        else
                fprintf(stderr, "<4>cscd: weakened layer: %s: %s\n", layer, why);
}
