/* fuzz_frame.c — the wire: incremental frame reading in random chunk sizes,
 * then frame parsing, exactly as a connection feeds them. */
#include <stdint.h>
#include <stdlib.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        csc_frame_reader r;
        csc_frame_reader_init(&r, 1 << 16);
        size_t off = 0, step = size ? (size_t)data[0] % 7 + 1 : 1;
        while (off < size) {
                size_t n = size - off < step ? size - off : step, used = 0;
                int f = csc_frame_reader_feed(&r, (const char *)data + off, n, &used);
                off += used;
                if (f < 0)
                        break;
                if (f == 1) {
                        char *payload;
                        size_t len;
                        csc_frame_reader_take(&r, &payload, &len);
                        csc_json_doc *doc = NULL;
                        const char *code = NULL;
                        if (csc_frame_parse(payload, len, &doc, &code, NULL) == 0) {
                                csc_buf out = CSC_BUF_INIT;
                                csc_frame_encode(csc_json_doc_root(doc), &out);
                                csc_buf_free(&out);
                        }
                        csc_json_doc_free(doc);
                        free(payload);
                }
                if (used == 0 && f == 0)
                        break;
        }
        csc_frame_reader_reset(&r);
        return 0;
}
