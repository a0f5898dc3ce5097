/* approval_store.c — SQLite-backed consumed-approval store. */
#include "approval_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define APPROVAL_STORE_SCHEMA 1

struct approval_store {
        sqlite3 *db;
        sqlite3_stmt *insert_consumed, *insert_use, *purge_consumed, *purge_uses;
        bool healthy;
        char error[256];
};

static int sqlite_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_CONSTRAINT: return -EEXIST;
        case SQLITE_FULL:       return -ENOSPC;
        case SQLITE_READONLY:   return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:       return -EACCES;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:     return -EBUSY;
        case SQLITE_NOMEM:      return -ENOMEM;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:     return -EBADMSG;
        case SQLITE_CANTOPEN:   return -ENOENT;
        default:                return -EIO;
        }
}

static void set_unhealthy(approval_store *s, const char *what) {
        s->healthy = false;
        snprintf(s->error, sizeof s->error, "%.100s: %.150s", what, s->db ? sqlite3_errmsg(s->db) : "cannot open");
}

static int exec_sql(approval_store *s, const char *sql) {
        char *msg = NULL;
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
        sqlite3_free(msg);
        return rc == SQLITE_OK ? 0 : sqlite_errno(rc);
}

/* Schema versions are migrated forward in order; version 1 is the first. */
static int migrate(approval_store *s) {
        sqlite3_stmt *st;
        int version = 0;
        if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        if (sqlite3_step(st) == SQLITE_ROW)
                version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (version > APPROVAL_STORE_SCHEMA) {
                snprintf(s->error, sizeof s->error, "approvals.db has schema %d, newer than this cscd (%d)",
                         version, APPROVAL_STORE_SCHEMA);
                return -EPROTO;
        }
        if (version < 1) {
                int r = exec_sql(s,
                        "BEGIN IMMEDIATE;"
                        "CREATE TABLE IF NOT EXISTS consumed ("
                        "  approval_id TEXT PRIMARY KEY NOT NULL,"
                        "  contract_sha256 TEXT NOT NULL,"
                        "  expires_at_usec INTEGER NOT NULL,"
                        "  consumed_at_usec INTEGER NOT NULL,"
                        "  execution_id TEXT NOT NULL,"
                        "  peer_uid INTEGER NOT NULL);"
                        "CREATE TABLE IF NOT EXISTS uses ("
                        "  approval_id TEXT NOT NULL,"
                        "  contract_sha256 TEXT NOT NULL,"
                        "  expires_at_usec INTEGER NOT NULL,"
                        "  used_at_usec INTEGER NOT NULL,"
                        "  execution_id TEXT NOT NULL,"
                        "  peer_uid INTEGER NOT NULL);"
                        "CREATE INDEX IF NOT EXISTS uses_expiry ON uses(expires_at_usec);"
                        "CREATE INDEX IF NOT EXISTS consumed_expiry ON consumed(expires_at_usec);"
                        "PRAGMA user_version = 1;"
                        "COMMIT;");
                if (r < 0) {
                        exec_sql(s, "ROLLBACK");
                        return r;
                }
        }
        return 0;
}

int approval_store_open(const char *dir, approval_store **ret) {
        approval_store *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        *ret = s;
        char path[4096];
        snprintf(path, sizeof path, "%s/approvals.db", dir);
        int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                                                       SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK) {
                set_unhealthy(s, path);
                return sqlite_errno(rc);
        }
        chmod(path, 0600);
        sqlite3_busy_timeout(s->db, 2000);
        int r = exec_sql(s, "PRAGMA journal_mode=WAL");
        if (r >= 0)
                r = exec_sql(s, "PRAGMA synchronous=FULL");
        if (r >= 0)
                r = migrate(s);
        if (r >= 0 &&
            (sqlite3_prepare_v2(s->db,
                                "INSERT INTO consumed(approval_id, contract_sha256, expires_at_usec, consumed_at_usec,"
                                " execution_id, peer_uid) VALUES (?,?,?,?,?,?)", -1, &s->insert_consumed, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db,
                                "INSERT INTO uses(approval_id, contract_sha256, expires_at_usec, used_at_usec,"
                                " execution_id, peer_uid) VALUES (?,?,?,?,?,?)", -1, &s->insert_use, NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db, "DELETE FROM consumed WHERE expires_at_usec < ?", -1, &s->purge_consumed,
                                NULL) != SQLITE_OK ||
             sqlite3_prepare_v2(s->db, "DELETE FROM uses WHERE expires_at_usec < ?", -1, &s->purge_uses, NULL) !=
                     SQLITE_OK))
                r = -EIO;
        if (r < 0) {
                if (!s->error[0])
                        set_unhealthy(s, path);
                s->healthy = false;
                return r;
        }
        s->healthy = true;
        return 0;
}

approval_store *approval_store_free(approval_store *s) {
        if (!s)
                return NULL;
        sqlite3_finalize(s->insert_consumed);
        sqlite3_finalize(s->insert_use);
        sqlite3_finalize(s->purge_consumed);
        sqlite3_finalize(s->purge_uses);
        sqlite3_close(s->db);
        free(s);
        return NULL;
}

int approval_store_consume(approval_store *s, const char *approval_id, const char *scope,
                           const char *contract_sha256, int64_t expires_at_usec, const char *execution_id,
                           uint32_t peer_uid, int64_t now_usec) {
        if (!s || !s->healthy)
                return -EIO;
        bool single = strcmp(scope, "single_execution") == 0;
        sqlite3_stmt *st = single ? s->insert_consumed : s->insert_use;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        sqlite3_bind_text(st, 1, approval_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, contract_sha256, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, expires_at_usec);
        sqlite3_bind_int64(st, 4, now_usec);
        sqlite3_bind_text(st, 5, execution_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 6, peer_uid);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
                return 0; /* autocommit: durable (WAL + synchronous=FULL) once step returns */
        int r = sqlite_errno(rc);
        if (r != -EEXIST)
                snprintf(s->error, sizeof s->error, "last write failed: %s", sqlite3_errmsg(s->db));
        return r;
}

int approval_store_purge(approval_store *s, int64_t now_usec) {
        if (!s || !s->healthy)
                return -EIO;
        int removed = 0;
        sqlite3_stmt *sts[2] = { s->purge_consumed, s->purge_uses };
        for (int i = 0; i < 2; i++) {
                sqlite3_reset(sts[i]);
                sqlite3_bind_int64(sts[i], 1, now_usec);
                int rc = sqlite3_step(sts[i]);
                sqlite3_reset(sts[i]);
                if (rc != SQLITE_DONE)
                        return sqlite_errno(rc);
                removed += sqlite3_changes(s->db);
        }
        return removed;
}

static int64_t count_rows(approval_store *s, const char *sql) {
        sqlite3_stmt *st;
        int64_t n = -1;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

void approval_store_stats_get(approval_store *s, approval_store_stats *ret) {
        memset(ret, 0, sizeof *ret);
        if (!s) {
                snprintf(ret->error, sizeof ret->error, "not opened");
                return;
        }
        ret->healthy = s->healthy;
        snprintf(ret->error, sizeof ret->error, "%s", s->error);
        if (!s->db || !s->healthy)
                return;
        ret->consumed = count_rows(s, "SELECT COUNT(*) FROM consumed");
        ret->uses = count_rows(s, "SELECT COUNT(*) FROM uses");
        ret->schema_version = (int) count_rows(s, "PRAGMA user_version");
}
