/* yaml.h — strict YAML 1.2 loading into libcsc's JSON value tree (libfyaml).
 *
 * Rules (spec §2 STRICTER): one document; duplicate keys at any depth →
 * "duplicate key"; anchors, aliases and tags (other than none) rejected;
 * mapping keys must be scalars (strings); plain scalars resolve to null
 * (null, ~, empty), true/false, decimal integers, decimal floats, else string;
 * YAML 1.1 booleans (yes/no/on/off/y/n and case variants, True/FALSE...) and
 * non-decimal numbers (0x, 0o, leading zeros, .inf, .nan) are errors rather
 * than silently typed; nesting deeper than CSC_JSON_MAX_DEPTH is an error.
 * Syntax errors are reported as "invalid YAML: <libfyaml's message> at line L". */
#pragma once
#include <stddef.h>

#include "error.h"
#include "json.h"

int csc_yaml_parse(const char *text, size_t len, csc_json_doc **ret, csc_error *err);
