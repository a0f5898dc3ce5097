/* approval_store.h — the persistent store of consumed approvals
 * (state_dir/approvals.db: SQLite, WAL, synchronous=FULL).
 *
 * A single_execution approval is consumed by one INSERT committed before the
 * first command starts; a second INSERT of the same approval_id is a replay,
 * whether concurrent, later, or after a crash and restart. time_window
 * approvals are recorded per use and stay usable until they expire. When the
 * store cannot be opened or written, callers must fail closed. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

typedef struct approval_store approval_store;

typedef struct approval_store_stats {
        bool healthy;
        char error[256];            /* why not healthy */
        int64_t consumed, uses;     /* rows */
        int schema_version;
} approval_store_stats;

/* Opens (creating and migrating) dir/approvals.db. On failure returns a
 * negative errno and leaves *ret a store in the "unhealthy" state that
 * refuses everything, so the daemon keeps serving policy_only contracts. */
int approval_store_open(const char *dir, approval_store **ret);
approval_store *approval_store_free(approval_store *s);

/* 0 consumed/recorded; -EEXIST replay of a single_execution approval;
 * other negative errno when the store cannot be written (fail closed). */
int approval_store_consume(approval_store *s, const char *approval_id, const char *scope,
                           const char *contract_sha256, int64_t expires_at_usec, const char *execution_id,
                           uint32_t peer_uid, int64_t now_usec);
/* Deletes rows of approvals that expired before now. Returns rows removed or -errno. */
int approval_store_purge(approval_store *s, int64_t now_usec);
void approval_store_stats_get(approval_store *s, approval_store_stats *ret);
