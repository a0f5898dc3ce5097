/* admission.c — the admission queue: one line (FIFO) per uid, the uids in a
 * ring served round-robin from a cursor. Counts and bytes are bounded at
 * push. */
#include "admission.h"

#include <errno.h>
#include <stdlib.h>

typedef struct uid_line uid_line;

struct admission_entry {
        uid_line *line;
        admission_entry *prev, *next;
        void *item;
        size_t bytes;
};

struct uid_line {
        uid_t uid;
        uid_line *prev, *next;         /* the ring of uids with entries */
        admission_entry *head, *tail;
        size_t depth;
};

struct admission {
        uid_line *cursor;              /* the uid served next; NULL: empty */
        size_t depth, bytes;
};

int admission_new(admission **ret) {
        admission *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        *ret = q;
        return 0;
}

admission *admission_free(admission *q) {
        if (!q)
                return NULL;
        while (q->cursor)
                (void) admission_remove(q, q->cursor->head);
        free(q);
        return NULL;
}

static uid_line *find_line(const admission *q, uid_t uid) {
        uid_line *l = q->cursor;
        if (!l)
                return NULL;
        do {
                if (l->uid == uid)
                        return l;
                l = l->next;
        } while (l != q->cursor);
        return NULL;
}

int admission_push(admission *q, uid_t uid, void *item, size_t bytes, size_t max_entries, admission_entry **ret) {
        if (q->depth >= max_entries || bytes > CSC_ADMISSION_MAX_BYTES - q->bytes)
                return -ENOSPC;
        admission_entry *e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        uid_line *l = find_line(q, uid);
        if (!l) {
                l = calloc(1, sizeof *l);
                if (!l) {
                        free(e);
                        return -ENOMEM;
                }
                l->uid = uid;
                if (!q->cursor) {
                        l->prev = l->next = l;
                        q->cursor = l;
                } else {        /* last in the current round */
                        l->next = q->cursor;
                        l->prev = q->cursor->prev;
                        l->prev->next = l;
                        q->cursor->prev = l;
                }
        }
        e->line = l;
        e->item = item;
        e->bytes = bytes;
        e->prev = l->tail;
        if (l->tail)
                l->tail->next = e;
        else
                l->head = e;
        l->tail = e;
        l->depth++;
        q->depth++;
        q->bytes += bytes;
        if (ret)
                *ret = e;
        return 0;
}

/* Unlinks an empty line from the ring; the cursor moves on if it was there. */
static void drop_line(admission *q, uid_line *l) {
        if (l->next == l)
                q->cursor = NULL;
        else {
                l->prev->next = l->next;
                l->next->prev = l->prev;
                if (q->cursor == l)
                        q->cursor = l->next;
        }
        free(l);
}

void *admission_remove(admission *q, admission_entry *e) {
        uid_line *l = e->line;
        if (e->prev)
                e->prev->next = e->next;
        else
                l->head = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                l->tail = e->prev;
        l->depth--;
        q->depth--;
        q->bytes -= e->bytes;
        void *item = e->item;
        free(e);
        if (l->depth == 0)
                drop_line(q, l);
        return item;
}

static uid_line *next_line(const admission *q, admission_may_start_fn may_start, void *userdata) {
        uid_line *l = q->cursor;
        if (!l)
                return NULL;
        do {
                if (may_start(l->uid, userdata))
                        return l;
                l = l->next;
        } while (l != q->cursor);
        return NULL;
}

void *admission_pop(admission *q, admission_may_start_fn may_start, void *userdata) {
        uid_line *l = next_line(q, may_start, userdata);
        if (!l)
                return NULL;
        /* The uid after this one is served next, whether or not this line empties. */
        q->cursor = l->next;
        return admission_remove(q, l->head);
}

bool admission_can_pop(const admission *q, admission_may_start_fn may_start, void *userdata) {
        return next_line(q, may_start, userdata) != NULL;
}

size_t admission_depth(const admission *q) {
        return q->depth;
}

int admission_foreach_uid(const admission *q, int (*fn)(uid_t uid, size_t depth, void *userdata), void *userdata) {
        const uid_line *l = q->cursor;
        if (!l)
                return 0;
        do {
                int r = fn(l->uid, l->depth, userdata);
                if (r < 0)
                        return r;
                l = l->next;
        } while (l != q->cursor);
        return 0;
}
