/* json_wire.h — a JSON value tree as tagged, length-prefixed binary, for a
 * process that must not run the JSON text parser on what it receives.
 *
 * cscd's session (running as the peer) parses the client's JSON text and
 * sends the tree in this form; the monitor (root) rebuilds the tree with a
 * bounded reader and re-checks everything the text parser guaranteed: UTF-8,
 * unique keys, depth, finite numbers, integer text. No escapes, no number
 * syntax, no whitespace: one tag byte, then a fixed-size value or a u32
 * count or length. */
#pragma once
#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "json.h"

/* The largest encoding of a JSON text of n bytes: an integer (1 byte of
 * text, 2 with its comma) takes 9. */
#define CSC_JSON_WIRE_MAX(n) ((size_t) (n) * 5 + 64)

/* Appends v's encoding to out. 0 or -ENOMEM. */
int csc_json_wire_encode(const csc_json *v, csc_buf *out);
/* Rebuilds one value from exactly len bytes. -EBADMSG with err naming what
 * is wrong and the byte offset; -ENOMEM. */
int csc_json_wire_decode(const void *data, size_t len, csc_json_doc **ret, csc_error *err);
