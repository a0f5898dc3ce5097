/* canon.h — canonical JSON (spec §4) and the hashes built on it.
 *
 * Canonical form is byte-identical to Python's
 * json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
 * encoded as UTF-8: keys sorted by code point, no whitespace, literal UTF-8,
 * escapes \" \\ \n \r \t \b \f and \u00xx (lower-case hex) for other
 * controls, integers as decimal, floats as Python's repr. */
#pragma once
#include "buf.h"
#include "json.h"

/* Appends the canonical form of v. 0, -ENOMEM, or -EINVAL (invalid UTF-8 in a
 * built string, non-finite float, duplicate keys in a built object). */
int csc_canon_write(const csc_json *v, csc_buf *out);
/* Lower-case hex SHA-256 of the canonical form, streamed into the hash (no
 * copy of the canonical string is built). Errors as csc_canon_write. */
int csc_canon_sha256_hex(const csc_json *v, char ret_hex[65]);
/* The same for object v with the member extra added (its key must not be in v:
 * -EINVAL otherwise), without copying v: contract_sha256 adds
 * "expected_outputs": [] this way. */
int csc_canon_sha256_hex_with(const csc_json *v, const csc_json_member *extra, char ret_hex[65]);
/* Human output: 2-space indented, keys in document order, literal UTF-8. */
int csc_json_write_pretty(const csc_json *v, csc_buf *out);
/* Lower-case hex of a 32-byte digest. */
void csc_hex32(const unsigned char digest[32], char ret_hex[65]);
/* SHA-256 hex of arbitrary bytes. */
void csc_sha256_hex(const void *data, size_t len, char ret_hex[65]);
