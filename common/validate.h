/* validate.h — strict validators for the five CSC v0.1 objects.
 *
 * Each accepts exactly what the project's JSON Schema (schemas/) accepts, plus
 * the STRICTER rules and limits of spec §8 (exact JSON types, unique command
 * ids, size/count limits, NUL bytes in argv). On the first problem they return
 * -EINVAL and set err->path to its JSON path (e.g. "commands[2].cwd", "" for
 * the top level) and err->message to what is wrong ("must be an absolute
 * path", "unknown key \"foo\"", "missing required key \"actor\""). 0 = valid. */
#pragma once
#include "error.h"
#include "json.h"

int csc_validate_contract(const csc_json *v, csc_error *err);
int csc_validate_policy(const csc_json *v, csc_error *err);
/* Receipts may carry a "signature" object {algorithm,key_id,signed_at,signature}. */
int csc_validate_receipt(const csc_json *v, csc_error *err);
/* Approvals may carry a "signature" object like receipts (approver authentication). */
int csc_validate_approval(const csc_json *v, csc_error *err);
int csc_validate_decision(const csc_json *v, csc_error *err);

/* Shared predicates (validate_util.c). */
bool csc_is_absolute_path(const char *s);          /* POSIX "/", "C:\\", "C:/", "\\\\host", "//host" */
bool csc_is_rfc3339(const char *s);
bool csc_is_hex64(const char *s);                  /* 64 hex digits, either case */
