/* test-admission.c — the admission queue: FIFO within a uid, round-robin
 * across uids, bounds on entries and bytes, removal of an entry whose client
 * left, and uids that may not start being skipped, not reordered. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "admission.h"
#include "tap.h"

static bool any(uid_t uid, void *userdata) {
        return true;
}

static bool not_blocked(uid_t uid, void *userdata) {
        return uid != *(uid_t *) userdata;
}

static void *tag(uid_t uid, int n) {
        return (void *) (uintptr_t) (uid * 1000 + n);
}

static int sum_depths(uid_t uid, size_t depth, void *userdata) {
        size_t *s = userdata;
        s[0] += depth;
        s[1]++;
        return 0;
}

static void fifo_one_uid(void) {
        admission *q = NULL;
        CHECK(admission_new(&q) == 0, "new");
        for (int i = 0; i < 10; i++)
                CHECK(admission_push(q, 1000, tag(1000, i), 10, 256, NULL) == 0, "push %d", i);
        CHECK(admission_depth(q) == 10, "depth 10");
        for (int i = 0; i < 10; i++)
                CHECK(admission_pop(q, any, NULL) == tag(1000, i), "FIFO: item %d", i);
        CHECK(admission_pop(q, any, NULL) == NULL && admission_depth(q) == 0, "empty");
        admission_free(q);
}

static void round_robin(void) {
        admission *q = NULL;
        admission_new(&q);
        /* uid 1 queues 4 first, then uid 2 queues 4, then uid 3 queues 2. */
        for (int i = 0; i < 4; i++)
                admission_push(q, 1, tag(1, i), 1, 256, NULL);
        for (int i = 0; i < 4; i++)
                admission_push(q, 2, tag(2, i), 1, 256, NULL);
        for (int i = 0; i < 2; i++)
                admission_push(q, 3, tag(3, i), 1, 256, NULL);
        void *want[] = { tag(1, 0), tag(2, 0), tag(3, 0), tag(1, 1), tag(2, 1), tag(3, 1),
                         tag(1, 2), tag(2, 2), tag(1, 3), tag(2, 3) };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
                CHECK(admission_pop(q, any, NULL) == want[i], "round-robin: pop %zu", i);
        CHECK(admission_depth(q) == 0, "drained");
        /* A uid that arrives mid-round waits for the uids already in the round. */
        admission_push(q, 1, tag(1, 0), 1, 256, NULL);
        admission_push(q, 1, tag(1, 1), 1, 256, NULL);
        admission_push(q, 2, tag(2, 0), 1, 256, NULL);
        CHECK(admission_pop(q, any, NULL) == tag(1, 0), "uid 1 first");
        admission_push(q, 3, tag(3, 0), 1, 256, NULL);   /* the round is now 2, 1: uid 3 goes last */
        CHECK(admission_pop(q, any, NULL) == tag(2, 0), "then uid 2");
        CHECK(admission_pop(q, any, NULL) == tag(1, 1), "then uid 1 again");
        CHECK(admission_pop(q, any, NULL) == tag(3, 0), "the newcomer after the round");
        admission_free(q);
}

static void skips_blocked_uid(void) {
        admission *q = NULL;
        admission_new(&q);
        admission_push(q, 1, tag(1, 0), 1, 256, NULL);
        admission_push(q, 1, tag(1, 1), 1, 256, NULL);
        admission_push(q, 2, tag(2, 0), 1, 256, NULL);
        uid_t blocked = 1;
        CHECK(admission_can_pop(q, not_blocked, &blocked), "uid 2 may start");
        CHECK(admission_pop(q, not_blocked, &blocked) == tag(2, 0), "uid 1 at its cap: uid 2 goes first");
        CHECK(!admission_can_pop(q, not_blocked, &blocked), "only uid 1 waits, and may not start");
        CHECK(admission_pop(q, not_blocked, &blocked) == NULL, "nothing to pop");
        CHECK(admission_pop(q, any, NULL) == tag(1, 0) && admission_pop(q, any, NULL) == tag(1, 1),
              "uid 1's order kept");
        admission_free(q);
}

static void bounds(void) {
        admission *q = NULL;
        admission_new(&q);
        for (int i = 0; i < 3; i++)
                CHECK(admission_push(q, 1, tag(1, i), 1, 3, NULL) == 0, "push %d of 3", i);
        CHECK(admission_push(q, 2, tag(2, 0), 1, 3, NULL) == -ENOSPC, "4th refused: max entries");
        CHECK(admission_depth(q) == 3, "depth stays 3");
        admission_pop(q, any, NULL);
        CHECK(admission_push(q, 2, tag(2, 0), 1, 3, NULL) == 0, "room again after a pop");
        admission_free(q);
        admission_new(&q);
        CHECK(admission_push(q, 1, tag(1, 0), CSC_ADMISSION_MAX_BYTES - 10, 256, NULL) == 0, "big one fits");
        CHECK(admission_push(q, 1, tag(1, 1), 11, 256, NULL) == -ENOSPC, "byte budget");
        CHECK(admission_push(q, 1, tag(1, 1), 10, 256, NULL) == 0, "exactly the budget");
        CHECK(admission_push(q, 2, tag(2, 0), SIZE_MAX, 256, NULL) == -ENOSPC, "no overflow");
        admission_free(q);
}

static void removal(void) {
        admission *q = NULL;
        admission_new(&q);
        admission_entry *e[3], *f = NULL, *g = NULL;
        for (int i = 0; i < 3; i++)
                admission_push(q, 1, tag(1, i), 5, 256, &e[i]);
        admission_push(q, 2, tag(2, 0), 5, 256, &f);
        admission_push(q, 3, tag(3, 0), 5, 256, &g);
        CHECK(admission_remove(q, e[1]) == tag(1, 1), "middle of a line");
        CHECK(admission_remove(q, f) == tag(2, 0), "a whole uid leaves");
        size_t s[2] = { 0, 0 };
        admission_foreach_uid(q, sum_depths, s);
        CHECK(s[0] == 3 && s[1] == 2 && admission_depth(q) == 3, "depths by uid: %zu in %zu uids", s[0], s[1]);
        CHECK(admission_pop(q, any, NULL) == tag(1, 0), "uid 1");
        CHECK(admission_pop(q, any, NULL) == tag(3, 0), "uid 2 is gone: uid 3");
        CHECK(admission_remove(q, e[2]) == tag(1, 2), "last entry");
        CHECK(admission_depth(q) == 0 && admission_pop(q, any, NULL) == NULL, "empty");
        /* the byte count went back too: a full budget fits again */
        CHECK(admission_push(q, 1, tag(1, 0), CSC_ADMISSION_MAX_BYTES, 256, NULL) == 0, "bytes returned");
        admission_free(q);   /* frees what is left */
}

int main(void) {
        fifo_one_uid();
        round_robin();
        skips_blocked_uid();
        bounds();
        removal();
        return tap_done("admission");
}
