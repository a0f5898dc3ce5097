/* privileges.h — what cscd keeps of root (design: "keeps only the
 * capabilities the executor needs and drops the rest from the bounding set"). */
#pragma once
#include <stdint.h>

/* The capabilities cscd keeps, as a bit mask (bit n = capability n). */
uint64_t cscd_kept_capabilities(void);
/* Drops every other capability from the bounding, permitted, effective and
 * inheritable sets and clears the ambient set. 0 or -errno. When not running
 * as root there is nothing to drop and 0 is returned. */
int cscd_drop_privileges(void);
