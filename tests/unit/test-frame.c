/* test-frame.c — the incremental frame reader and frame parsing, fed byte by
 * byte, in bursts, and with hostile lengths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "csc_limits.h"
#include "tap.h"

static int feed_all(csc_frame_reader *r, const char *data, size_t n, size_t step, char **payload, size_t *len) {
        size_t off = 0;
        while (off < n) {
                size_t k = n - off < step ? n - off : step, used;
                int q = csc_frame_reader_feed(r, data + off, k, &used);
                off += used;
                if (q < 0)
                        return q;
                if (q == 1) {
                        csc_frame_reader_take(r, payload, len);
                        return (int) off;
                }
        }
        return 0;
}

int main(void) {
        const char body[] = "{\"type\":\"status\"}";
        char frame[64];
        size_t n = sizeof body - 1;
        frame[0] = 0; frame[1] = 0; frame[2] = 0; frame[3] = (char) n;
        memcpy(frame + 4, body, n);
        for (size_t step = 1; step <= n + 4; step++) {
                csc_frame_reader r;
                csc_frame_reader_init(&r, CSC_FRAME_MAX_BYTES);
                char *p = NULL;
                size_t len = 0;
                int used = feed_all(&r, frame, n + 4, step, &p, &len);
                CHECK(used == (int) (n + 4) && p && len == n && memcmp(p, body, n) == 0, "step %zu", step);
                CHECK(!csc_frame_reader_in_progress(&r), "reset after take");
                free(p);
                csc_frame_reader_reset(&r);
        }
        /* Two frames in one burst: the reader stops after the first. */
        {
                char two[128];
                memcpy(two, frame, n + 4);
                memcpy(two + n + 4, frame, n + 4);
                csc_frame_reader r;
                csc_frame_reader_init(&r, 1024);
                size_t used;
                CHECK(csc_frame_reader_feed(&r, two, 2 * (n + 4), &used) == 1 && used == n + 4, "first of two");
                char *p;
                size_t len;
                csc_frame_reader_take(&r, &p, &len);
                free(p);
                CHECK(csc_frame_reader_feed(&r, two + used, n + 4, &used) == 1, "second of two");
                csc_frame_reader_take(&r, &p, &len);
                free(p);
        }
        /* Length 0, limit exactly, limit + 1, 4 GiB - 1. */
        {
                csc_frame_reader r;
                size_t used;
                csc_frame_reader_init(&r, 100);
                CHECK(csc_frame_reader_feed(&r, "\0\0\0\0", 4, &used) == -EBADMSG, "length 0");
                csc_frame_reader_reset(&r);
                CHECK(csc_frame_reader_feed(&r, "\0\0\0\x64", 4, &used) == 0, "length at limit accepted");
                csc_frame_reader_reset(&r);
                CHECK(csc_frame_reader_feed(&r, "\0\0\0\x65", 4, &used) == -EMSGSIZE, "limit + 1");
                csc_frame_reader_reset(&r);
                CHECK(csc_frame_reader_feed(&r, "\xff\xff\xff\xff", 4, &used) == -EMSGSIZE, "4 GiB");
                csc_frame_reader_reset(&r);
                CHECK(csc_frame_reader_feed(&r, "\0\0", 2, &used) == 0 && csc_frame_reader_in_progress(&r),
                      "partial header is in progress");
                csc_frame_reader_reset(&r);
        }
        /* Parsing: error codes for each kind of bad payload. */
        {
                static const struct { const char *p; const char *code; } bad[] = {
                        { "{nope", "bad_json" },
                        { "\"\xff\"", "bad_json" },
                        { "[1,2]", "bad_frame" },
                        { "{\"x\":1}", "bad_frame" },
                        { "{\"type\":1}", "bad_frame" },
                        { "{\"type\":\"\"}", "bad_frame" },
                        { "{\"type\":\"a\",\"type\":\"b\"}", "bad_json" },
                };
                for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                        csc_json_doc *doc = NULL;
                        const char *code = NULL;
                        csc_error err = { 0 };
                        int r = csc_frame_parse(bad[i].p, strlen(bad[i].p), &doc, &code, &err);
                        CHECK(r == -EINVAL && code && strcmp(code, bad[i].code) == 0, "%s -> %s", bad[i].p,
                              code ? code : "(none)");
                        csc_json_doc_free(doc);
                }
                csc_json_doc *doc = NULL;
                const char *code = "x";
                CHECK(csc_frame_parse(body, n, &doc, &code, NULL) == 0 && code == NULL, "good frame");
                csc_buf b = CSC_BUF_INIT;
                CHECK(csc_frame_encode(csc_json_doc_root(doc), &b) == 0 && b.len == n + 4 &&
                      memcmp(b.data, frame, n + 4) == 0, "encode round trip");
                csc_buf_free(&b);
                csc_json_doc_free(doc);
        }
        return tap_done("frame");
}
