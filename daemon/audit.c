/* audit.c — receipts.jsonl and the journal. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "buf.h"
#include "canon.h"

struct cscd_audit {
        int fd;
        bool torn;
        bool need_newline;
        uint64_t torn_offset;
};

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
        close(dfd);
        if (fd < 0)
                return csc_error_set(err, -errno, state_dir, "cannot open receipts.jsonl: %s", strerror(errno));
        cscd_audit *a = calloc(1, sizeof *a);
        if (!a) {
                close(fd);
                return -ENOMEM;
        }
        a->fd = fd;
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
                if (a->fd >= 0)
                        close(a->fd);
                free(a);
        }
        return NULL;
}

bool cscd_audit_torn_tail(const cscd_audit *a, uint64_t *offset) {
        *offset = a->torn_offset;
        return a->torn;
}

int cscd_audit_append(cscd_audit *a, const csc_json *receipt, const cscd_peer_info *peer) {
        csc_buf b = CSC_BUF_INIT;
        int r = a->need_newline ? csc_buf_putc(&b, '\n') : 0;
        r = r ?: csc_buf_printf(&b, "{\"peer\":{\"gid\":%u,\"pid\":%d,\"uid\":%u},\"receipt\":", (unsigned)peer->gid,
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
        if (r == 0 && fdatasync(a->fd) < 0)
                r = -errno;
        if (r == 0)
                a->need_newline = false;
        return r;
}

void cscd_journal_decision(const char *contract_id, const char *execution_id, const char *decision,
                           const char *code, const char *reason, const cscd_peer_info *peer) {
        sd_journal_send("MESSAGE=contract %s: %s (%s) for uid %u pid %d", contract_id, decision, code,
                        (unsigned)peer->uid, (int)peer->pid, "PRIORITY=%i", LOG_INFO, "CSC_CONTRACT_ID=%s",
                        contract_id, "CSC_EXECUTION_ID=%s", execution_id, "CSC_DECISION=%s", decision,
                        "CSC_REASON_CODE=%s", code, "CSC_REASON=%s", reason, "CSC_PEER_UID=%u",
                        (unsigned)peer->uid, "CSC_PEER_PID=%d", (int)peer->pid, NULL);
}

void cscd_journal_receipt(const char *contract_id, const char *execution_id, const char *status, int exit_code,
                          const char *error, const cscd_peer_info *peer) {
        sd_journal_send("MESSAGE=execution %s of contract %s: %s (exit %d)%s%s", execution_id, contract_id, status,
                        exit_code, error && *error ? ": " : "", error ? error : "", "PRIORITY=%i",
                        strcmp(status, "success") == 0 ? LOG_INFO : LOG_NOTICE, "CSC_CONTRACT_ID=%s", contract_id,
                        "CSC_EXECUTION_ID=%s", execution_id, "CSC_STATUS=%s", status, "CSC_EXIT_CODE=%d", exit_code,
                        "CSC_PEER_UID=%u", (unsigned)peer->uid, "CSC_PEER_PID=%d", (int)peer->pid, NULL);
}
