/* path.c — path flavour, normal form and prefix matching (spec §3). */
#include "path.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

csc_path_flavour csc_path_flavour_of(const char *p) {
        if ((p[0] == '\\' && p[1] == '\\') || (p[0] == '/' && p[1] == '/'))
                return CSC_PATH_WINDOWS;
        if (isalpha((unsigned char) p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/'))
                return CSC_PATH_WINDOWS;
        return CSC_PATH_POSIX;
}

bool csc_path_has_dotdot(const char *p) {
        bool win = csc_path_flavour_of(p) == CSC_PATH_WINDOWS;
        const char *seg = p;
        for (const char *q = p;; q++) {
                bool sep = *q == '/' || (win && *q == '\\') || *q == 0;
                if (sep) {
                        if (q - seg == 2 && seg[0] == '.' && seg[1] == '.')
                                return true;
                        if (*q == 0)
                                return false;
                        seg = q + 1;
                }
        }
}

void csc_path_normalize(const char *p, char *out) {
        size_t o = 0;
        if (csc_path_flavour_of(p) == CSC_PATH_WINDOWS) {
                for (const char *q = p; *q; q++)
                        out[o++] = *q == '\\' ? '/' : (char) tolower((unsigned char) *q);
                while (o > 1 && out[o - 1] == '/' && !(o == 2 && out[0] == '/'))
                        o--;
                out[o] = 0;
                return;
        }
        bool abs = p[0] == '/';
        if (abs)
                out[o++] = '/';
        const char *q = p;
        while (*q) {
                while (*q == '/')
                        q++;
                const char *s = q;
                while (*q && *q != '/')
                        q++;
                size_t n = (size_t) (q - s);
                if (n == 0 || (n == 1 && s[0] == '.'))
                        continue;
                if (o > 0 && out[o - 1] != '/')
                        out[o++] = '/';
                memcpy(out + o, s, n);
                o += n;
        }
        if (o == 0 && !abs)
                out[o++] = '.';
        out[o] = 0;
}

bool csc_path_under(const char *path, const char *prefix) {
        if (csc_path_flavour_of(path) != csc_path_flavour_of(prefix))
                return false;
        size_t lp = strlen(path), lx = strlen(prefix);
        char small_a[512], small_b[512];
        char *a = lp < sizeof small_a ? small_a : malloc(lp + 2);
        char *b = lx < sizeof small_b ? small_b : malloc(lx + 2);
        bool match = false;
        if (a && b) {
                csc_path_normalize(path, a);
                csc_path_normalize(prefix, b);
                size_t nb = strlen(b);
                if (strcmp(b, "/") == 0)
                        match = a[0] == '/';
                else
                        match = strncmp(a, b, nb) == 0 && (a[nb] == 0 || a[nb] == '/');
        }
        if (a != small_a)
                free(a);
        if (b != small_b)
                free(b);
        return match;
}

bool csc_path_under_any(const char *path, const char *const *prefixes, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (csc_path_under(path, prefixes[i]))
                        return true;
        return false;
}
