/* frame.c — incremental frame reader, frame parsing and encoding. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

void csc_frame_reader_init(csc_frame_reader *r, size_t max) {
        memset(r, 0, sizeof *r);
        r->max = max;
}

void csc_frame_reader_reset(csc_frame_reader *r) {
        free(r->payload);
        size_t max = r->max;
        csc_frame_reader_init(r, max);
}

int csc_frame_reader_in_progress(const csc_frame_reader *r) {
        return r->header_got > 0;
}

int csc_frame_reader_feed(csc_frame_reader *r, const char *data, size_t n, size_t *ret_consumed) {
        size_t used = 0;
        if (r->header_got < CSC_FRAME_HEADER_BYTES) {
                size_t want = CSC_FRAME_HEADER_BYTES - r->header_got;
                size_t k = n < want ? n : want;
                memcpy(r->header + r->header_got, data, k);
                r->header_got += k;
                used += k;
                if (r->header_got < CSC_FRAME_HEADER_BYTES) {
                        *ret_consumed = used;
                        return 0;
                }
                r->len = (uint32_t) r->header[0] << 24 | (uint32_t) r->header[1] << 16 |
                         (uint32_t) r->header[2] << 8 | (uint32_t) r->header[3];
                *ret_consumed = used;
                if (r->len == 0)
                        return -EBADMSG;
                if (r->len > r->max)
                        return -EMSGSIZE;
                r->payload = malloc((size_t) r->len + 1);
                if (!r->payload)
                        return -ENOMEM;
                r->got = 0;
        }
        size_t want = r->len - r->got;
        size_t k = n - used < want ? n - used : want;
        memcpy(r->payload + r->got, data + used, k);
        r->got += k;
        used += k;
        *ret_consumed = used;
        return r->got == r->len ? 1 : 0;
}

void csc_frame_reader_take(csc_frame_reader *r, char **ret_payload, size_t *ret_len) {
        r->payload[r->len] = 0;
        *ret_payload = r->payload;
        *ret_len = r->len;
        r->payload = NULL;
        csc_frame_reader_reset(r);
}

int csc_frame_parse(const char *payload, size_t len, csc_json_doc **ret, const char **ret_code, csc_error *err) {
        csc_json_doc *doc = NULL;
        int r = csc_json_parse(payload, len, &doc, err);
        if (r < 0) {
                *ret_code = "bad_json";
                return r;
        }
        const csc_json *root = csc_json_doc_root(doc);
        if (root->type != CSC_JSON_OBJECT) {
                csc_json_doc_free(doc);
                *ret_code = "bad_frame";
                return csc_error_set(err, -EINVAL, "", "a frame must hold a JSON object");
        }
        const csc_json *type = csc_json_get(root, "type");
        if (!type || type->type != CSC_JSON_STRING || type->string.len == 0) {
                csc_json_doc_free(doc);
                *ret_code = "bad_frame";
                return csc_error_set(err, -EINVAL, "type", type ? "must be a non-empty string" : "missing required key \"type\"");
        }
        *ret_code = NULL;
        *ret = doc;
        return 0;
}

int csc_frame_encode(const csc_json *v, csc_buf *out) {
        size_t start = out->len;
        unsigned char hdr[CSC_FRAME_HEADER_BYTES] = { 0 };
        int r = csc_buf_append(out, hdr, sizeof hdr);
        if (r < 0)
                return r;
        r = csc_canon_write(v, out);
        if (r < 0) {
                out->len = start;
                return r;
        }
        size_t n = out->len - start - CSC_FRAME_HEADER_BYTES;
        if (n > UINT32_MAX) {
                out->len = start;
                return -EMSGSIZE;
        }
        unsigned char *h = (unsigned char *) out->data + start;
        h[0] = (unsigned char) (n >> 24);
        h[1] = (unsigned char) (n >> 16);
        h[2] = (unsigned char) (n >> 8);
        h[3] = (unsigned char) n;
        return 0;
}
