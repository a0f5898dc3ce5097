/* cleanup.h — scope-owned resources: a variable declared with a cleanup
 * attribute is released when it goes out of scope, and TAKE_PTR()/TAKE_FD()
 * hand ownership on (leaving NULL / -1 behind, so nothing is released twice).
 * Every destructor used here accepts NULL (or -1). */
#pragma once
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* DEFINE_TRIVIAL_CLEANUP_FUNC(type *, type_free) defines type_freep(type **). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)          \
        static inline void func##p(type *p) {            \
                if (*p)                                  \
                        (void)func(*p);                  \
        }

static inline void csc_freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(csc_freep)

static inline void csc_closep(int *fd) {
        if (*fd >= 0)
                (void)close(*fd);
}
#define _cleanup_close_ _cleanup_(csc_closep)

/* The value of p; p becomes NULL (or -1 for TAKE_FD). */
#define TAKE_PTR(p)                            \
        ({                                     \
                __typeof__(p) _taken = (p);    \
                (p) = NULL;                    \
                _taken;                        \
        })
#define TAKE_FD(fd)                            \
        ({                                     \
                int _taken = (fd);             \
                (fd) = -1;                     \
                _taken;                        \
        })
