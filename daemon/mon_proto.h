/* mon_proto.h — what a session (running as the peer) may say to the monitor
 * (cscd, root). The monitor never reads a client's bytes: the session reads
 * frames and parses their JSON, and sends each request here in a fixed
 * binary shape. The monitor's replies go the other way as ready-made frames,
 * which the session copies to the client unread.
 *
 * Every message: a 12-byte header (kind, body length, argument; host byte
 * order, both ends are on this machine), then the body.
 *
 *   MON_MSG_FRAME_BEGIN  arg 0, no body: part of a client frame has arrived
 *                        (the monitor runs the frame deadline).
 *   MON_MSG_REQUEST      arg = mon_request; body = u32 length of the client's
 *                        frame, then the request object (json_wire.h).
 *   MON_MSG_REFUSE       arg = mon_refusal; body = message, path (u32 length
 *                        and bytes each; an empty path is none): the client
 *                        sent something that is not a request.
 *
 * Each kind has a fixed bound on its body; anything else is malformed, and
 * the monitor ends the connection. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "csc_limits.h"
#include "json_wire.h"

typedef enum mon_msg_kind {
        MON_MSG_FRAME_BEGIN = 1,
        MON_MSG_REQUEST = 2,
        MON_MSG_REFUSE = 3,
} mon_msg_kind;

typedef enum mon_request {
        MON_REQ_SUBMIT = 1,
        MON_REQ_CHECK,
        MON_REQ_STATUS,
        MON_REQ_RELOAD,
        MON_REQ_PUBKEYS,
        MON_REQ_POLICY,
        _MON_REQ_MAX,
} mon_request;

typedef enum mon_refusal {
        MON_REFUSE_BAD_JSON = 1,
        MON_REFUSE_BAD_FRAME,
        MON_REFUSE_TOO_LARGE,
        _MON_REFUSE_MAX,
} mon_refusal;

#define MON_HEADER_BYTES 12
#define MON_REFUSE_TEXT_MAX 1024
#define MON_REQUEST_BODY_MAX (4 + CSC_JSON_WIRE_MAX(CSC_FRAME_MAX_BYTES))

typedef struct mon_header {
        uint32_t kind, len, arg;
} mon_header;

/* The wire's name of a request ("submit"), or NULL. */
const char *mon_request_name(mon_request r);
/* 0 when the name is not a request. */
mon_request mon_request_from_name(const char *name);
/* "bad_json", "bad_frame", "too_large", or NULL. */
const char *mon_refusal_code(mon_refusal r);

/* Writers (the session). 0 or -ENOMEM. */
int mon_put_frame_begin(csc_buf *out);
int mon_put_request(csc_buf *out, mon_request type, size_t frame_len, const csc_json *request);
int mon_put_refuse(csc_buf *out, mon_refusal code, const char *message, const char *path);

/* The monitor's incremental reader: fed whatever a read returned. */
typedef struct mon_reader {
        unsigned char header[MON_HEADER_BYTES];
        size_t header_got;
        mon_header h;
        char *body;
        size_t got;
} mon_reader;

void mon_reader_reset(mon_reader *r);
bool mon_reader_in_progress(const mon_reader *r);
/* Feeds up to n bytes (*ret_used says how many were taken). 1: a message is
 * complete (take it with mon_reader_take before feeding more); 0: more bytes
 * needed; -EBADMSG: unknown kind, a body over its kind's bound, an argument
 * out of range; -ENOMEM. */
int mon_reader_feed(mon_reader *r, const char *data, size_t n, size_t *ret_used);
/* Hands over the header and the body (malloc'd, NULL when empty); resets. */
void mon_reader_take(mon_reader *r, mon_header *ret_h, char **ret_body);

/* A REQUEST's body: the client's frame length and the request object. */
int mon_parse_request(const char *body, size_t len, size_t *ret_frame_len, csc_json_doc **ret, csc_error *err);
/* A REFUSE's body: message and path (NUL-terminated copies, path "" for none). */
int mon_parse_refuse(const char *body, size_t len, char message[static MON_REFUSE_TEXT_MAX + 1],
                     char path[static MON_REFUSE_TEXT_MAX + 1]);
