/* session_seccomp.h — the session's system-call allowlist. */
#pragma once

/* Installs it (no_new_privs is already set by cscd). 0 or -errno. */
int session_seccomp_install(void);
