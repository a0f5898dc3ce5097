/* path.h — path normalization and prefix matching for policy scope (spec §3). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef enum csc_path_flavour { CSC_PATH_POSIX, CSC_PATH_WINDOWS } csc_path_flavour;

csc_path_flavour csc_path_flavour_of(const char *p);
/* True when any segment of p (split on '/' and, for Windows paths, '\\') is "..". */
bool csc_path_has_dotdot(const char *p);
/* Normal form into out (size >= strlen(p)+1): POSIX collapses '/', drops "."
 * segments and the trailing '/', keeps ".." as text; Windows uses forward
 * slashes, lower case, no trailing '/'. */
void csc_path_normalize(const char *p, char *out);
/* Spec §3 matching: same flavour, and path equals prefix or starts with
 * prefix + "/" (prefix "/" matches every POSIX path). */
bool csc_path_under(const char *path, const char *prefix);
bool csc_path_under_any(const char *path, const char *const *prefixes, size_t n);
