/* yaml.c — strict YAML → csc_json with libfyaml's event parser.
 *
 * The event stream is folded into a value tree with an explicit stack, so
 * nesting is bounded by CSC_JSON_MAX_DEPTH rather than the C stack. Plain
 * scalars resolve by the YAML 1.2 JSON-compatible rules; every spelling that
 * YAML 1.1 or the core schema would type differently is an error. */
#include "yaml.h"

#include <errno.h>
#include <libfyaml.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csc_limits.h"

typedef struct frame {
        csc_json *container;
        const char *key;        /* mapping: pending key (arena), NULL when a key is expected */
        size_t key_len;
        int line, column;       /* where the container started */
} frame;

enum { RX_BOOL11, RX_JSON_NUMBER, RX_INF, RX_NAN, RX_BASED, RX_FLOAT11, RX_SEXAGESIMAL, RX_COUNT };
static const char *const rx_text[RX_COUNT] = {
        [RX_BOOL11] = "^(y|Y|yes|Yes|YES|n|N|no|No|NO|True|TRUE|False|FALSE|on|On|ON|off|Off|OFF)$",
        [RX_JSON_NUMBER] = "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?$",
        [RX_INF] = "^[-+]?\\.(inf|Inf|INF)$",
        [RX_NAN] = "^\\.(nan|NaN|NAN)$",
        [RX_BASED] = "^0(x[0-9a-fA-F_]+|o[0-7_]+|b[01_]+)$",
        [RX_FLOAT11] = "^[-+]?(\\.[0-9]+|[0-9][0-9_]*(\\.[0-9_]*)?)([eE][-+]?[0-9]+)?$",
        [RX_SEXAGESIMAL] = "^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?$",
};

typedef struct builder {
        regex_t rx[RX_COUNT];          /* compiled on first use, per parse */
        bool rx_ready[RX_COUNT];
        csc_json_doc *doc;
        csc_error *err;
        frame stack[CSC_JSON_MAX_DEPTH + 1];
        size_t depth;
        csc_json *root;
        bool have_root;
} builder;

static void capture_diag(struct fy_diag *diag, void *user, const char *buf, size_t len) {
        (void)diag;
        csc_buf *b = user;
        if (b->len < 512)
                csc_buf_append(b, buf, len);
}

static int mark_of(struct fy_event *e, int *line, int *col) {
        const struct fy_mark *m = fy_event_start_mark(e);
        *line = m ? m->line + 1 : 0;
        *col = m ? m->column + 1 : 0;
        return 0;
}

/* The JSON path of the value being built, e.g. "deny_argv_prefixes[1]". */
static void path_of(const builder *b, char *out, size_t size) {
        size_t o = 0;
        out[0] = 0;
        for (size_t i = 0; i < b->depth && o < size; i++) {
                const frame *f = &b->stack[i];
                int n;
                if (f->container->type == CSC_JSON_ARRAY)
                        n = snprintf(out + o, size - o, "[%zu]", f->container->array.count);
                else if (f->key)
                        n = snprintf(out + o, size - o, "%s%.64s", o ? "." : "", f->key);
                else
                        break;
                if (n < 0)
                        break;
                o += (size_t)n;
        }
}

static int fail_at(builder *b, struct fy_event *e, const char *what) {
        int line, col;
        char path[CSC_ERROR_PATH_MAX];
        mark_of(e, &line, &col);
        path_of(b, path, sizeof path);
        return csc_error_set(b->err, -EINVAL, path, "invalid YAML: %s at line %d column %d", what, line, col);
}

static bool match(builder *b, int which, const char *s) {
        if (!b->rx_ready[which]) {
                if (regcomp(&b->rx[which], rx_text[which], REG_EXTENDED | REG_NOSUB) != 0)
                        return false;
                b->rx_ready[which] = true;
        }
        return regexec(&b->rx[which], s, 0, NULL, 0) == 0;
}

/* Resolves a plain scalar; -EINVAL with a message for ambiguous spellings. */
static int resolve_plain(builder *b, struct fy_event *e, const char *s, size_t len, csc_json **ret) {
        if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
            strcmp(s, "NULL") == 0) {
                *ret = csc_json_new_null(b->doc);
                return *ret ? 0 : -ENOMEM;
        }
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
                *ret = csc_json_new_bool(b->doc, s[0] == 't');
                return *ret ? 0 : -ENOMEM;
        }
        if (match(b, RX_BOOL11, s)) {
                char what[160];
                snprintf(what, sizeof what,
                         "\"%s\" is a YAML 1.1 boolean; write true or false, or quote it to mean the string", s);
                return fail_at(b, e, what);
        }
        const char *num = s[0] == '+' ? s + 1 : s;
        if (match(b, RX_JSON_NUMBER, num)) {
                csc_json_doc *tmp = NULL;
                int r = csc_json_parse(num, strlen(num), &tmp, NULL);
                if (r < 0)
                        return r == -ENOMEM ? r : fail_at(b, e, "number out of range");
                const csc_json *v = csc_json_doc_root(tmp);
                if (v->type == CSC_JSON_INT && v->integer.overflow) {
                        csc_json_doc_free(tmp);
                        return fail_at(b, e, "integer out of range");
                }
                *ret = csc_json_copy(b->doc, v);
                csc_json_doc_free(tmp);
                return *ret ? 0 : -ENOMEM;
        }
        if (match(b, RX_INF, s) || match(b, RX_NAN, s) || match(b, RX_BASED, s) || match(b, RX_FLOAT11, s) ||
            match(b, RX_SEXAGESIMAL, s)) {
                char what[200];
                snprintf(what, sizeof what,
                         "\"%.64s\" is an ambiguous number (only plain decimal is allowed); quote it to mean the string",
                         s);
                return fail_at(b, e, what);
        }
        *ret = csc_json_new_stringn(b->doc, s, len);
        return *ret ? 0 : -ENOMEM;
}

/* Places a finished value into its parent (or as the root). */
static int place(builder *b, struct fy_event *e, csc_json *v) {
        if (b->depth == 0) {
                if (b->have_root)
                        return fail_at(b, e, "only one document is allowed");
                b->root = v;
                b->have_root = true;
                return 0;
        }
        frame *f = &b->stack[b->depth - 1];
        if (f->container->type == CSC_JSON_ARRAY)
                return csc_json_array_append(b->doc, f->container, v);
        if (!f->key) {
                if (v->type != CSC_JSON_STRING)
                        return fail_at(b, e, "mapping keys must be strings");
                f->key = v->string.ptr;
                f->key_len = v->string.len;
                return 0;
        }
        int r = csc_json_object_append(b->doc, f->container, f->key, f->key_len, v);
        f->key = NULL;
        return r;
}

static int scalar(builder *b, struct fy_event *e) {
        if (e->scalar.anchor)
                return fail_at(b, e, "anchors are not allowed");
        if (e->scalar.tag)
                return fail_at(b, e, "tags are not allowed");
        size_t len = 0;
        const char *text = fy_token_get_text(e->scalar.value, &len);
        if (!text)
                return -ENOMEM;
        if (!csc_utf8_valid(text, len))
                return fail_at(b, e, "scalar is not valid UTF-8");
        bool is_key = b->depth > 0 && b->stack[b->depth - 1].container->type == CSC_JSON_OBJECT &&
                      !b->stack[b->depth - 1].key;
        csc_json *v = NULL;
        if (is_key || fy_token_scalar_style(e->scalar.value) != FYSS_PLAIN) {
                v = csc_json_new_stringn(b->doc, text, len);
                if (!v)
                        return -ENOMEM;
        } else {
                char *z = strndup(text, len);
                if (!z)
                        return -ENOMEM;
                if (strlen(z) != len) {
                        free(z);
                        return fail_at(b, e, "scalar contains a NUL character");
                }
                int r = resolve_plain(b, e, z, len, &v);
                free(z);
                if (r < 0)
                        return r;
        }
        return place(b, e, v);
}

static int open_container(builder *b, struct fy_event *e, bool mapping) {
        struct fy_token *anchor = mapping ? e->mapping_start.anchor : e->sequence_start.anchor;
        struct fy_token *tag = mapping ? e->mapping_start.tag : e->sequence_start.tag;
        if (anchor)
                return fail_at(b, e, "anchors are not allowed");
        if (tag)
                return fail_at(b, e, "tags are not allowed");
        if (b->depth > 0 && b->stack[b->depth - 1].container->type == CSC_JSON_OBJECT && !b->stack[b->depth - 1].key)
                return fail_at(b, e, "mapping keys must be strings");
        if (b->depth >= CSC_JSON_MAX_DEPTH)
                return fail_at(b, e, "nesting deeper than 64");
        csc_json *c = mapping ? csc_json_new_object(b->doc) : csc_json_new_array(b->doc);
        if (!c)
                return -ENOMEM;
        frame *f = &b->stack[b->depth++];
        *f = (frame){ .container = c };
        mark_of(e, &f->line, &f->column);
        return 0;
}

static int close_container(builder *b, struct fy_event *e) {
        frame f = b->stack[--b->depth];
        if (f.container->type == CSC_JSON_OBJECT) {
                const char *dup = NULL;
                int r = csc_json_object_find_duplicate(f.container, &dup);
                if (r < 0)
                        return r;
                if (r > 0)
                        return csc_error_set(b->err, -EINVAL, "",
                                             "duplicate key \"%.100s\" in the mapping at line %d column %d", dup,
                                             f.line, f.column);
        }
        return place(b, e, f.container);
}

int csc_yaml_parse(const char *text, size_t len, csc_json_doc **ret, csc_error *err) {
        if (!csc_utf8_valid(text, len))
                return csc_error_set(err, -EINVAL, "", "invalid YAML: input is not valid UTF-8");
        csc_buf diag_text = CSC_BUF_INIT;
        struct fy_diag_cfg dcfg;
        fy_diag_cfg_default(&dcfg);
        dcfg.fp = NULL;
        dcfg.output_fn = capture_diag;
        dcfg.user = &diag_text;
        dcfg.colorize = false;
        dcfg.show_source = false;
        dcfg.show_position = false;
        dcfg.show_type = false;
        dcfg.show_module = false;
        struct fy_diag *diag = fy_diag_create(&dcfg);
        struct fy_parse_cfg pcfg = { .flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2, .diag = diag };
        struct fy_parser *fyp = diag ? fy_parser_create(&pcfg) : NULL;
        builder *b = calloc(1, sizeof *b);
        csc_json_doc *doc = csc_json_doc_new();
        int r = fyp && b && doc ? 0 : -ENOMEM;
        if (r == 0 && fy_parser_set_string(fyp, text, len) != 0)
                r = -ENOMEM;
        if (r == 0) {
                b->doc = doc;
                b->err = err;
        }
        struct fy_event *e;
        while (r == 0 && (e = fy_parser_parse(fyp))) {
                switch (e->type) {
                case FYET_SCALAR: r = scalar(b, e); break;
                case FYET_MAPPING_START: r = open_container(b, e, true); break;
                case FYET_SEQUENCE_START: r = open_container(b, e, false); break;
                case FYET_MAPPING_END:
                case FYET_SEQUENCE_END: r = close_container(b, e); break;
                case FYET_ALIAS: r = fail_at(b, e, "aliases are not allowed"); break;
                case FYET_NONE:
                case FYET_STREAM_START:
                case FYET_STREAM_END:
                case FYET_DOCUMENT_START:
                case FYET_DOCUMENT_END: break;
                }
                fy_parser_event_free(fyp, e);
        }
        if (r == 0 && fy_parser_get_stream_error(fyp)) {
                /* libfyaml's message reads "<file>:line:col: error: text"; keep it whole. */
                char *msg = diag_text.data ? diag_text.data : (char *)"syntax error";
                size_t n = strlen(msg);
                while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                        msg[--n] = 0;
                char *nl = strchr(msg, '\n');
                if (nl)
                        *nl = 0;
                r = csc_error_set(err, -EINVAL, "", "invalid YAML: %s", msg);
        }
        if (r == -ENOMEM)
                csc_error_set(err, r, "", "out of memory");
        if (r == 0) {
                csc_json *root = b->have_root ? b->root : csc_json_new_null(doc);
                if (!root)
                        r = -ENOMEM;
                else
                        csc_json_doc_set_root(doc, root);
        }
        if (fyp)
                fy_parser_destroy(fyp);
        if (diag)
                fy_diag_unref(diag);
        csc_buf_free(&diag_text);
        if (b)
                for (int i = 0; i < RX_COUNT; i++)
                        if (b->rx_ready[i])
                                regfree(&b->rx[i]);
        free(b);
        if (r < 0) {
                csc_json_doc_free(doc);
                return r;
        }
        *ret = doc;
        return 0;
}
