/* mon_proto.c — the session → monitor messages: writers and a bounded reader. */
#include "mon_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rbuf.h"

static const char *const request_names[_MON_REQ_MAX] = {
        [MON_REQ_SUBMIT] = "submit",
        [MON_REQ_CHECK] = "check",
        [MON_REQ_STATUS] = "status",
        [MON_REQ_RELOAD] = "reload",
        [MON_REQ_PUBKEYS] = "pubkeys",
        [MON_REQ_POLICY] = "policy",
};

static const char *const refusal_codes[_MON_REFUSE_MAX] = {
        [MON_REFUSE_BAD_JSON] = "bad_json",
        [MON_REFUSE_BAD_FRAME] = "bad_frame",
        [MON_REFUSE_TOO_LARGE] = "too_large",
};

const char *mon_request_name(mon_request r) {
        return r > 0 && r < _MON_REQ_MAX ? request_names[r] : NULL;
}

mon_request mon_request_from_name(const char *name) {
        for (int i = 1; i < _MON_REQ_MAX; i++)
                if (strcmp(name, request_names[i]) == 0)
                        return (mon_request) i;
        return 0;
}

const char *mon_refusal_code(mon_refusal r) {
        return r > 0 && r < _MON_REFUSE_MAX ? refusal_codes[r] : NULL;
}

static int put_header(csc_buf *out, mon_msg_kind kind, size_t len, uint32_t arg) {
        mon_header h = { .kind = kind, .len = (uint32_t) len, .arg = arg };
        unsigned char raw[MON_HEADER_BYTES];
        memcpy(raw, &h.kind, 4);
        memcpy(raw + 4, &h.len, 4);
        memcpy(raw + 8, &h.arg, 4);
        return csc_buf_append(out, raw, sizeof raw);
}

int mon_put_frame_begin(csc_buf *out) {
        return put_header(out, MON_MSG_FRAME_BEGIN, 0, 0);
}

/* A message is written header first, with a zero length that this fills
 * in once the body is there (at: where the header starts). */
static void put_length(csc_buf *out, size_t at) {
        uint32_t len = (uint32_t) (out->len - at - MON_HEADER_BYTES);
        memcpy(out->data + at + 4, &len, 4);
}

int mon_put_request(csc_buf *out, mon_request type, size_t frame_len, const csc_json *request) {
        size_t at = out->len;
        uint32_t fl = (uint32_t) frame_len;
        int r = put_header(out, MON_MSG_REQUEST, 0, (uint32_t) type);
        r = r ?: csc_buf_append(out, &fl, sizeof fl);
        r = r ?: csc_json_wire_encode(request, out);
        if (r >= 0 && out->len - at - MON_HEADER_BYTES > MON_REQUEST_BODY_MAX)
                r = -E2BIG;
        if (r < 0) {
                out->len = at;
                return r;
        }
        put_length(out, at);
        return 0;
}

/* At most MON_REFUSE_TEXT_MAX bytes, cut on a UTF-8 character boundary
 * (the monitor refuses text that is not UTF-8). */
static int put_text(csc_buf *out, const char *s) {
        s = s ? s : "";
        size_t n = strnlen(s, MON_REFUSE_TEXT_MAX + 1);
        if (n > MON_REFUSE_TEXT_MAX)
                for (n = MON_REFUSE_TEXT_MAX; n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80; n--)
                        ;
        uint32_t len = (uint32_t) n;
        int r = csc_buf_append(out, &len, sizeof len);
        return r ?: csc_buf_append(out, s, n);
}

int mon_put_refuse(csc_buf *out, mon_refusal code, const char *message, const char *path) {
        size_t at = out->len;
        int r = put_header(out, MON_MSG_REFUSE, 0, (uint32_t) code);
        r = r ?: put_text(out, message);
        r = r ?: put_text(out, path);
        if (r < 0) {
                out->len = at;
                return r;
        }
        put_length(out, at);
        return 0;
}

void mon_reader_reset(mon_reader *r) {
        free(r->body);
        *r = (mon_reader) { 0 };
}

bool mon_reader_in_progress(const mon_reader *r) {
        return r->header_got > 0;
}

/* The header is whole: is it one the monitor accepts? */
static int check_header(const mon_header *h) {
        switch (h->kind) {
        case MON_MSG_FRAME_BEGIN:
                return h->len == 0 && h->arg == 0 ? 0 : -EBADMSG;
        case MON_MSG_REQUEST:
                return h->len >= 5 && h->len <= MON_REQUEST_BODY_MAX && mon_request_name(h->arg) ? 0 : -EBADMSG;
        case MON_MSG_REFUSE:
                return h->len >= 8 && h->len <= 8 + 2 * MON_REFUSE_TEXT_MAX && mon_refusal_code(h->arg) ? 0 : -EBADMSG;
        }
        return -EBADMSG;
}

int mon_reader_feed(mon_reader *r, const char *data, size_t n, size_t *ret_used) {
        size_t used = 0;
        if (r->header_got < MON_HEADER_BYTES) {
                size_t want = MON_HEADER_BYTES - r->header_got;
                size_t take = n < want ? n : want;
                memcpy(r->header + r->header_got, data, take);
                r->header_got += take;
                used += take;
                if (r->header_got < MON_HEADER_BYTES) {
                        *ret_used = used;
                        return 0;
                }
                memcpy(&r->h.kind, r->header, 4);
                memcpy(&r->h.len, r->header + 4, 4);
                memcpy(&r->h.arg, r->header + 8, 4);
                if (check_header(&r->h) < 0) {
                        *ret_used = used;
                        return -EBADMSG;
                }
                if (r->h.len > 0 && !(r->body = malloc(r->h.len))) {
                        *ret_used = used;
                        return -ENOMEM;
                }
        }
        size_t take = n - used < r->h.len - r->got ? n - used : r->h.len - r->got;
        if (take)
                memcpy(r->body + r->got, data + used, take);
        r->got += take;
        used += take;
        *ret_used = used;
        return r->got == r->h.len;
}

void mon_reader_take(mon_reader *r, mon_header *ret_h, char **ret_body) {
        *ret_h = r->h;
        *ret_body = r->body;
        r->body = NULL;
        mon_reader_reset(r);
}

int mon_parse_request(const char *body, size_t len, size_t *ret_frame_len, csc_json_doc **ret, csc_error *err) {
        csc_rbuf b = csc_rbuf_init(body, len);
        uint32_t fl;
        if (csc_rbuf_get_u32(&b, &fl) < 0 || fl == 0 || fl > CSC_FRAME_MAX_BYTES)
                return csc_error_set(err, -EBADMSG, "", "bad frame length");
        csc_json_doc *doc;
        int r = csc_json_wire_decode(body + 4, len - 4, &doc, err);
        if (r < 0)
                return r;
        if (csc_json_doc_root(doc)->type != CSC_JSON_OBJECT) {
                csc_json_doc_free(doc);
                return csc_error_set(err, -EBADMSG, "", "the request is not an object");
        }
        *ret_frame_len = fl;
        *ret = doc;
        return 0;
}

static int get_text(csc_rbuf *b, char out[static MON_REFUSE_TEXT_MAX + 1]) {
        const char *s;
        size_t n;
        if (csc_rbuf_get_bytes(b, &s, &n, MON_REFUSE_TEXT_MAX) < 0 || memchr(s, 0, n))
                return -EBADMSG;
        memcpy(out, s, n);
        out[n] = 0;
        return 0;
}

int mon_parse_refuse(const char *body, size_t len, char message[static MON_REFUSE_TEXT_MAX + 1],
                     char path[static MON_REFUSE_TEXT_MAX + 1]) {
        csc_rbuf b = csc_rbuf_init(body, len);
        int r = get_text(&b, message);
        r = r ?: get_text(&b, path);
        if (r >= 0 && csc_rbuf_left(&b) != 0)
                r = -EBADMSG;
        if (r >= 0 && !csc_utf8_valid(message, strlen(message)))
                r = -EBADMSG;
        if (r >= 0 && !csc_utf8_valid(path, strlen(path)))
                r = -EBADMSG;
        return r;
}
