/* test-path.c — path normal form and prefix matching of spec §3. */
#include <string.h>

#include "path.h"
#include "tap.h"

static void norm_is(const char *in, const char *want) {
        char out[256];
        csc_path_normalize(in, out);
        CHECK(strcmp(out, want) == 0, "normalize(%s) = %s, want %s", in, out, want);
}

int main(void) {
        norm_is("/", "/");
        norm_is("/a///b/", "/a/b");
        norm_is("//Host/Share/x/", "//host/share/x");   /* UNC: Windows flavour */
        norm_is("/a/./b/.", "/a/b");
        norm_is("/a/../b", "/a/../b");
        norm_is("C:\\Users\\Bob\\", "c:/users/bob");
        norm_is("//Host/Share/x", "//host/share/x");
        CHECK(csc_path_under("/workspace", "/workspace"), "equal");
        CHECK(csc_path_under("/workspace/a/b", "/workspace"), "below");
        CHECK(!csc_path_under("/workspace2", "/workspace"), "sibling with common prefix");
        CHECK(csc_path_under("/anything", "/"), "root prefix");
        CHECK(csc_path_under("//x", "//x") && !csc_path_under("/x", "//x"), "UNC is windows flavour");
        CHECK(csc_path_under("/workspace/./a//", "/workspace/"), "normalized both sides");
        CHECK(csc_path_under("/workspace/**", "/workspace"), "globs are plain characters");
        CHECK(!csc_path_under("C:/data", "/"), "mixed flavours never match");
        CHECK(csc_path_under("C:\\Data\\x", "c:/data"), "windows case-insensitive");
        CHECK(csc_path_has_dotdot("/a/../b") && csc_path_has_dotdot("/..") && csc_path_has_dotdot("/a/.."),
              "dotdot segments");
        CHECK(!csc_path_has_dotdot("/a/..b/c..") && !csc_path_has_dotdot("/a/.../b"), "not dotdot");
        CHECK(csc_path_has_dotdot("C:\\a\\..\\b"), "windows dotdot");
        return tap_done("path");
}
