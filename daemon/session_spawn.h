/* session_spawn.h — starting cscd-session for one connection, as the peer. */
#pragma once
#include <sys/types.h>

#include "peer.h"

/* Opens the session program once, at start (O_PATH): every session runs that
 * file, even if the one on disk is replaced while cscd runs. path NULL: the
 * cscd-session beside this cscd when there is one (a build tree), else the
 * installed one. Returns the descriptor or -errno; ret_path says which file. */
int session_program_open(const char *path, char *ret_path, size_t size);

/* Forks a session: the client's socket becomes its fd 3 and a new socket
 * pair's other end its fd 4; it runs as peer->uid, gid and groups with no
 * capabilities (bounding set empty, securebits locked) and no_new_privs.
 * The passed-through environment is the sanitizer options of test builds.
 * Returns the monitor's end of the pair in *ret_fd (non-blocking) and the
 * session's pid. */
int session_spawn(int program_fd, int client_fd, const cscd_peer *peer, int *ret_fd, pid_t *ret_pid);
