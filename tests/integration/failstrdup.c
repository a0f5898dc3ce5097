/* failstrdup.c — an LD_PRELOAD shim for one test: strdup() of exactly the
 * string in $CSC_FAIL_STRDUP fails with ENOMEM, as if memory ran out at that
 * call; every other strdup() is the real one. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *strdup(const char *s) {
        static char *(*real)(const char *);
        const char *fail = getenv("CSC_FAIL_STRDUP");
        if (fail && strcmp(s, fail) == 0) {
                errno = ENOMEM;
                return NULL;
        }
        if (!real)
                real = (char *(*)(const char *))dlsym(RTLD_NEXT, "strdup");
        return real(s);
}
