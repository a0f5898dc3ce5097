/* fuzz_mon_proto.c — the monitor's reader of session messages, fed as a
 * connection feeds it (random chunk sizes), then each whole message parsed
 * as the monitor parses it. What decodes must encode back to the same tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "mon_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const char *body, size_t len) {
        size_t frame_len;
        csc_json_doc *doc = NULL;
        if (mon_parse_request(body, len, &frame_len, &doc, NULL) != 0)
                return;
        /* A tree that decoded encodes back, decodes again, and is canonically the same. */
        csc_buf b = CSC_BUF_INIT, c1 = CSC_BUF_INIT, c2 = CSC_BUF_INIT;
        csc_json_doc *again = NULL;
        if (csc_json_wire_encode(csc_json_doc_root(doc), &b) != 0 || csc_json_wire_decode(b.data, b.len, &again, NULL) != 0 ||
            csc_canon_write(csc_json_doc_root(doc), &c1) != 0 || csc_canon_write(csc_json_doc_root(again), &c2) != 0 ||
            c1.len != c2.len || memcmp(c1.data, c2.data, c1.len) != 0)
                abort();
        csc_buf_free(&b);
        csc_buf_free(&c1);
        csc_buf_free(&c2);
        csc_json_doc_free(again);
        csc_json_doc_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        mon_reader r = { 0 };
        size_t off = 0, step = size ? (size_t) data[0] % 13 + 1 : 1;
        while (off < size) {
                size_t n = size - off < step ? size - off : step, used = 0;
                int q = mon_reader_feed(&r, (const char *) data + off, n, &used);
                off += used;
                if (q < 0)
                        break;
                if (q == 1) {
                        mon_header h;
                        char *body;
                        mon_reader_take(&r, &h, &body);
                        if (h.kind == MON_MSG_REQUEST)
                                check_tree(body, h.len);
                        else if (h.kind == MON_MSG_REFUSE) {
                                char m[MON_REFUSE_TEXT_MAX + 1], p[MON_REFUSE_TEXT_MAX + 1];
                                (void) mon_parse_refuse(body, h.len, m, p);
                        }
                        free(body);
                }
        }
        mon_reader_reset(&r);
        return 0;
}
