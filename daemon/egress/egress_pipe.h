/* egress_pipe.h — one direction of a relayed connection: bytes read from one
 * socket and written to the other. It starts with a user-space buffer (the
 * proxy's own replies, a request head, a ClientHello held for its SNI) and,
 * once that is drained and nothing more needs inspecting, moves to a kernel
 * pipe with splice(2), so bulk data is never copied through the proxy. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Pipe {
        uint8_t *data;  /* user-space buffer of cap bytes */
        size_t cap, off, len;
        int pfd[2];     /* the kernel pipe once spliced, else -1 */
        size_t in_pipe; /* bytes in the kernel pipe */
        size_t pipe_cap;
        bool eof;       /* the reading side ended */
        bool shut;      /* the writing side was shut down */
} Pipe;

void pipe_init(Pipe *p);
void pipe_free(Pipe *p);
/* Grows (or first allocates) the user buffer to cap, keeping its bytes. -ENOMEM. */
int pipe_reserve(Pipe *p, size_t cap);
/* Appends what fits of data to the user buffer (replies are far below cap). */
void pipe_put(Pipe *p, const void *data, size_t n);
/* Switches to splice when the user buffer is empty; stays on copying when
 * the kernel gives no pipe. */
void pipe_try_splice(Pipe *p);
/* Reads at most limit bytes from fd; sets eof at end of stream. 0 or -errno;
 * *ret_n bytes read (0 also when fd had nothing). */
int pipe_fill(Pipe *p, int fd, size_t limit, size_t *ret_n);
/* Writes what it holds to fd; shuts fd's write side once empty after eof. */
int pipe_flush(Pipe *p, int fd, size_t *ret_n);
bool pipe_has_data(const Pipe *p);
bool pipe_has_room(const Pipe *p);
/* Nothing more will move: shut down after eof, or still owes bytes. */
bool pipe_pending_shutdown(const Pipe *p);
