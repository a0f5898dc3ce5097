/* admission.h — the waiting room for submits that arrive while the execution
 * caps are reached: a bounded queue, first in first out within each uid and
 * round-robin across uids, so one busy agent cannot starve another. A pure
 * data structure: the caller says which uids may start now, and owns the
 * items (the queue never frees them). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "csc_limits.h"   /* CSC_ADMISSION_MAX_BYTES */

typedef struct admission admission;
typedef struct admission_entry admission_entry;
typedef bool (*admission_may_start_fn)(uid_t uid, void *userdata);

int admission_new(admission **ret);
/* Entries still queued are dropped (their items are the caller's). */
admission *admission_free(admission *q);
/* Queues item for uid at the end of the uid's line; a uid new to the queue
 * joins the round just before the uid served next. -ENOSPC when max_entries
 * wait already or bytes would pass CSC_ADMISSION_MAX_BYTES. */
int admission_push(admission *q, uid_t uid, void *item, size_t bytes, size_t max_entries, admission_entry **ret);
/* Takes one entry out (its client left) and returns its item. */
void *admission_remove(admission *q, admission_entry *e);
/* The next item to start: the oldest of the first uid, from the round-robin
 * cursor on, that may_start accepts; the cursor then moves to the uid after
 * it. NULL when the queue is empty or no waiting uid may start. */
void *admission_pop(admission *q, admission_may_start_fn may_start, void *userdata);
/* Whether admission_pop would return an item, without taking it. */
bool admission_can_pop(const admission *q, admission_may_start_fn may_start, void *userdata);
size_t admission_depth(const admission *q);
/* The uids waiting, in round-robin order from the next one served: calls
 * fn(uid, depth, userdata) once per uid; stops at the first negative return. */
int admission_foreach_uid(const admission *q, int (*fn)(uid_t uid, size_t depth, void *userdata), void *userdata);
