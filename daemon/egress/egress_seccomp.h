/* egress_seccomp.h — loads cscd-egress's seccomp allowlist on every thread. */
#pragma once

/* 0, or a negative errno from libseccomp. Call after the resolver threads
 * exist and before the first untrusted byte is read. */
int egress_seccomp_apply(void);
