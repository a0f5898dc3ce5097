/* privileges.h — what cscd keeps of root (design: "keeps only the
 * capabilities the executor needs and drops the rest from the bounding set"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The capabilities cscd keeps, as a bit mask (bit n = capability n). */
uint64_t cscd_kept_capabilities(void);
/* Drops every other capability from the bounding, permitted, effective and
 * inheritable sets and clears the ambient set. 0 or -errno. When not running
 * as root there is nothing to drop and 0 is returned.
 * A required capability cscd was started without: -EPERM with their names in
 * missing ("CAP_SYS_ADMIN CAP_SETUID"). An optional one (CAP_IPC_LOCK: the
 * signing key's mlock) is only named in ret_optional_missing. */
int cscd_trim_capabilities(char *missing, size_t missing_size, char *ret_optional_missing, size_t optional_size);
