/* frame.h — the wire framing of cscd: a 4-byte unsigned big-endian length N,
 * then N bytes of UTF-8 JSON holding one object with a string member "type".
 *
 * The reader is an incremental state machine so a connection can be fed
 * whatever a non-blocking read returned; it never trusts the length beyond
 * the configured maximum and never allocates more than the announced size. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "json.h"

#define CSC_FRAME_HEADER_BYTES 4

typedef struct csc_frame_reader {
        unsigned char header[CSC_FRAME_HEADER_BYTES];
        size_t header_got;
        uint32_t len;        /* announced payload length, valid once header_got == 4 */
        char *payload;
        size_t got;
        size_t max;          /* largest accepted payload */
} csc_frame_reader;

void csc_frame_reader_init(csc_frame_reader *r, size_t max);
void csc_frame_reader_reset(csc_frame_reader *r);   /* frees a partial payload */
/* True when part of a frame has arrived but not all of it. */
int csc_frame_reader_in_progress(const csc_frame_reader *r);
/* Feeds up to n bytes; *ret_consumed says how many were used. Returns 1 when
 * a whole frame is ready (take it with csc_frame_reader_take before feeding
 * more), 0 when more bytes are needed, -EBADMSG for a zero length, -EMSGSIZE
 * when the announced length exceeds max. */
int csc_frame_reader_feed(csc_frame_reader *r, const char *data, size_t n, size_t *ret_consumed);
/* Hands over the completed payload (malloc'd, NUL-terminated) and resets. */
void csc_frame_reader_take(csc_frame_reader *r, char **ret_payload, size_t *ret_len);

/* Parses a payload: strict JSON, an object, with a string "type".
 * -EINVAL with err for bad JSON ("bad_json") or a missing/invalid type
 * ("bad_frame"); *ret_code is set to that error code name either way. */
int csc_frame_parse(const char *payload, size_t len, csc_json_doc **ret, const char **ret_code, csc_error *err);
/* Appends a frame (header + compact canonical JSON of v) to out. */
int csc_frame_encode(const csc_json *v, csc_buf *out);
