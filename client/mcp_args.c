/* mcp_args.c — tool arguments → a CSC v0.1 contract, the submit's env and
 * approvals. Every argument is type-checked here with its name in the
 * message; the contract validator then checks the built contract and its
 * JSON paths are translated back to argument names. */
#include "mcp_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "contract.h"
#include "csc_limits.h"
#include "uuid.h"

static const struct {
        const char *name;
        csc_json_type type;
} arg_types[] = {
        { "argv", CSC_JSON_ARRAY },          { "pipeline", CSC_JSON_ARRAY },   { "cwd", CSC_JSON_STRING },
        { "read_paths", CSC_JSON_ARRAY },    { "write_paths", CSC_JSON_ARRAY }, { "network", CSC_JSON_STRING },
        { "env", CSC_JSON_OBJECT },          { "secret_refs", CSC_JSON_ARRAY }, { "timeout_sec", CSC_JSON_INT },
        { "effect", CSC_JSON_STRING },       { "intent", CSC_JSON_STRING },    { "justification", CSC_JSON_STRING },
        { "risk_class", CSC_JSON_STRING },   { "approvals", CSC_JSON_ARRAY },  { "contract", CSC_JSON_OBJECT },
};

__attribute__((format(printf, 3, 4)))
static int bad(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        return 1;
}

static int check_types(const csc_json *args, char *e, size_t es) {
        for (size_t i = 0; i < args->object.count; i++) {
                const csc_json_member *m = &args->object.members[i];
                size_t k = 0, n = sizeof arg_types / sizeof arg_types[0];
                while (k < n && strcmp(arg_types[k].name, m->key) != 0)
                        k++;
                if (k == n)
                        return bad(e, es, "%.100s: unknown argument", m->key);
                if (m->value->type != arg_types[k].type)
                        return bad(e, es, "%s: must be %s %s, not %s", m->key,
                                   arg_types[k].type == CSC_JSON_STRING ? "a" : "an",
                                   arg_types[k].type == CSC_JSON_ARRAY    ? "array"
                                   : arg_types[k].type == CSC_JSON_OBJECT ? "object"
                                   : arg_types[k].type == CSC_JSON_INT    ? "integer"
                                                                          : "string",
                                   csc_json_type_name(m->value->type));
        }
        return 0;
}

/* An array of strings; name is the argument's name for the message. */
static int check_strings(const csc_json *a, const char *name, bool nonempty, char *e, size_t es) {
        if (!a)
                return 0;
        if (nonempty && a->array.count == 0)
                return bad(e, es, "%s: must not be empty", name);
        for (size_t i = 0; i < a->array.count; i++)
                if (a->array.items[i]->type != CSC_JSON_STRING)
                        return bad(e, es, "%s[%zu]: must be a string, not %s", name, i,
                                   csc_json_type_name(a->array.items[i]->type));
        return 0;
}

static int check_shapes(const csc_json *args, char *e, size_t es) {
        const csc_json *argv = csc_json_get(args, "argv"), *pipe = csc_json_get(args, "pipeline");
        const csc_json *contract = csc_json_get(args, "contract");
        if (contract) {
                for (size_t i = 0; i < args->object.count; i++) {
                        const char *k = args->object.members[i].key;
                        if (strcmp(k, "contract") && strcmp(k, "approvals") && strcmp(k, "env"))
                                return bad(e, es, "%s: cannot be combined with contract (give the whole contract, "
                                           "or arguments)", k);
                }
        } else if (argv && pipe)
                return bad(e, es, "pipeline: give argv or pipeline, not both");
        else if (!argv && !pipe)
                return bad(e, es, "argv: required (or pipeline, or contract)");
        else if (!csc_json_get(args, "intent"))
                return bad(e, es, "intent: required (say what the command is for)");
        int r = check_strings(argv, "argv", true, e, es);
        if (pipe && pipe->array.count < 2)
                return bad(e, es, "pipeline: needs at least 2 segments (use argv for one command)");
        for (size_t i = 0; !r && pipe && i < pipe->array.count; i++) {
                char name[32];
                snprintf(name, sizeof name, "pipeline[%zu]", i);
                if (pipe->array.items[i]->type != CSC_JSON_ARRAY)
                        return bad(e, es, "%s: must be an array of strings (one argv)", name);
                r = check_strings(pipe->array.items[i], name, true, e, es);
        }
        static const char *const lists[] = { "read_paths", "write_paths", "secret_refs", "approvals" };
        for (size_t i = 0; !r && i < sizeof lists / sizeof lists[0]; i++)
                r = check_strings(csc_json_get(args, lists[i]), lists[i], false, e, es);
        const csc_json *env = csc_json_get(args, "env");
        for (size_t i = 0; !r && env && i < env->object.count; i++)
                if (env->object.members[i].value->type != CSC_JSON_STRING)
                        return bad(e, es, "env.%.100s: must be a string", env->object.members[i].key);
        const csc_json *ap = csc_json_get(args, "approvals");
        if (!r && ap && ap->array.count > CSC_MCP_MAX_APPROVALS)
                return bad(e, es, "approvals: at most %d files", CSC_MCP_MAX_APPROVALS);
        return r;
}

/* argument value, or a default string */
static csc_json *str_or(csc_json_doc *doc, const csc_json *args, const char *key, const char *dflt) {
        const csc_json *v = csc_json_get(args, key);
        return v ? csc_json_copy(doc, v) : csc_json_new_string(doc, dflt);
}

static csc_json *list_or_empty(csc_json_doc *doc, const csc_json *args, const char *key) {
        const csc_json *v = csc_json_get(args, key);
        return v ? csc_json_copy(doc, v) : csc_json_new_array(doc);
}

static csc_json *actor(csc_json_doc *doc, const mcp_identity *who) {
        csc_json *a = csc_json_new_object(doc);
        int r = a ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, a, "agent_id", csc_json_new_string(doc, who->agent_id));
        r = r ?: csc_json_object_set(doc, a, "session_id", csc_json_new_string(doc, who->session_id));
        r = r ?: csc_json_object_set(doc, a, "initiating_user", csc_json_new_string(doc, who->user));
        r = r ?: csc_json_object_set(doc, a, "delegation_scope", csc_json_new_string(doc, "mcp"));
        return r < 0 ? NULL : a;
}

static csc_json *runnable(csc_json_doc *doc, const csc_json *args, const char **ret_key) {
        const csc_json *argv = csc_json_get(args, "argv");
        csc_json *o = csc_json_new_object(doc);
        if (!o)
                return NULL;
        if (argv) {
                *ret_key = "exec";
                return csc_json_object_set(doc, o, "argv", csc_json_copy(doc, argv)) < 0 ? NULL : o;
        }
        const csc_json *pipe = csc_json_get(args, "pipeline");
        csc_json *segs = csc_json_new_array(doc);
        for (size_t i = 0; segs && i < pipe->array.count; i++) {
                csc_json *s = csc_json_new_object(doc);
                if (!s || csc_json_object_set(doc, s, "argv", csc_json_copy(doc, pipe->array.items[i])) < 0 ||
                    csc_json_array_append(doc, segs, s) < 0)
                        return NULL;
        }
        *ret_key = "pipeline";
        return csc_json_object_set(doc, o, "segments", segs) < 0 ? NULL : o;
}

static csc_json *env_names(csc_json_doc *doc, const csc_json *env) {
        csc_json *a = csc_json_new_array(doc);
        for (size_t i = 0; a && env && i < env->object.count; i++)
                if (csc_json_array_append(doc, a, csc_json_new_stringn(doc, env->object.members[i].key,
                                                                       env->object.members[i].key_len)) < 0)
                        return NULL;
        return a;
}

static csc_json *command(csc_json_doc *doc, const csc_json *args, const mcp_identity *who) {
        const csc_json *t = csc_json_get(args, "timeout_sec");
        const char *rkey = NULL;
        csc_json *c = csc_json_new_object(doc), *run = runnable(doc, args, &rkey);
        int r = c && run ? 0 : -ENOMEM;
        r = r ?: csc_json_object_set(doc, c, "id", csc_json_new_string(doc, "cmd_1"));
        r = r ?: csc_json_object_set(doc, c, rkey, run);
        r = r ?: csc_json_object_set(doc, c, "cwd", str_or(doc, args, "cwd", who->cwd));
        r = r ?: csc_json_object_set(doc, c, "read_paths", list_or_empty(doc, args, "read_paths"));
        r = r ?: csc_json_object_set(doc, c, "write_paths", list_or_empty(doc, args, "write_paths"));
        r = r ?: csc_json_object_set(doc, c, "network", str_or(doc, args, "network", "deny"));
        r = r ?: csc_json_object_set(doc, c, "env_allow", env_names(doc, csc_json_get(args, "env")));
        r = r ?: csc_json_object_set(doc, c, "secret_refs", list_or_empty(doc, args, "secret_refs"));
        r = r ?: csc_json_object_set(doc, c, "timeout_sec", t ? csc_json_copy(doc, t) : csc_json_new_int(doc, 60));
        r = r ?: csc_json_object_set(doc, c, "proposed_effect_type", str_or(doc, args, "effect", "observe"));
        return r < 0 ? NULL : c;
}

static csc_json *contract_from_args(csc_json_doc *doc, const csc_json *args, const mcp_identity *who) {
        char uuid[CSC_UUID_BUF], id[8 + CSC_UUID_BUF];
        csc_uuid4(uuid);
        snprintf(id, sizeof id, "mcp-%s", uuid);
        const csc_json *intent = csc_json_get(args, "intent");
        csc_json *o = csc_json_new_object(doc), *cmds = csc_json_new_array(doc);
        int r = o && cmds ? csc_json_array_append(doc, cmds, command(doc, args, who)) : -ENOMEM;
        r = r ?: csc_json_object_set(doc, o, "version", csc_json_new_string(doc, "csc.v0.1"));
        r = r ?: csc_json_object_set(doc, o, "contract_id", csc_json_new_string(doc, id));
        r = r ?: csc_json_object_set(doc, o, "intent", csc_json_copy(doc, intent));
        r = r ?: csc_json_object_set(doc, o, "justification", csc_json_copy(doc, csc_json_get(args, "justification") ?: intent));
        r = r ?: csc_json_object_set(doc, o, "actor", actor(doc, who));
        r = r ?: csc_json_object_set(doc, o, "commands", cmds);
        r = r ?: csc_json_object_set(doc, o, "risk_class", str_or(doc, args, "risk_class", "low"));
        r = r ?: csc_json_object_set(doc, o, "approval_mode", csc_json_new_string(doc, "policy_only"));
        return r < 0 ? NULL : o;
}

/* A given contract: copied; version, contract_id and actor filled in when absent. */
static csc_json *contract_given(csc_json_doc *doc, const csc_json *given, const mcp_identity *who) {
        csc_json *o = csc_json_copy(doc, given);
        char uuid[CSC_UUID_BUF], id[8 + CSC_UUID_BUF];
        csc_uuid4(uuid);
        snprintf(id, sizeof id, "mcp-%s", uuid);
        int r = o ? 0 : -ENOMEM;
        if (!r && !csc_json_get(o, "version"))
                r = csc_json_object_set(doc, o, "version", csc_json_new_string(doc, "csc.v0.1"));
        if (!r && !csc_json_get(o, "contract_id"))
                r = csc_json_object_set(doc, o, "contract_id", csc_json_new_string(doc, id));
        if (!r && !csc_json_get(o, "actor"))
                r = csc_json_object_set(doc, o, "actor", actor(doc, who));
        return r < 0 ? NULL : o;
}

/* commands[0].exec.argv[2] → argv[2]: the validator's path, in the caller's words. */
static void arg_path(const char *path, bool from_args, char *out, size_t size) {
        if (!from_args) {
                snprintf(out, size, "contract%s%s", path[0] && path[0] != '[' ? "." : "", path);
                return;
        }
        static const struct { const char *from, *to; } map[] = {
                { "commands[0].exec.argv", "argv" },         { "commands[0].pipeline.segments", "pipeline" },
                { "commands[0].proposed_effect_type", "effect" }, { "commands[0].env_allow", "env" },
                { "commands[0].", "" },
        };
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
                size_t n = strlen(map[i].from);
                if (strncmp(path, map[i].from, n) == 0) {
                        const char *rest = path + n;
                        /* pipeline.segments[1].argv[0] → pipeline[1][0] */
                        const char *argv = strstr(rest, "].argv");
                        if (i == 1 && argv)
                                snprintf(out, size, "%s%.*s]%s", map[i].to, (int) (argv - rest), rest, argv + 6);
                        else
                                snprintf(out, size, "%s%s", map[i].to, rest);
                        return;
                }
        }
        snprintf(out, size, "%s", path);
}

static int load_approvals(mcp_input *in, const csc_json *paths, char *e, size_t es) {
        in->approvals = csc_json_new_array(in->doc);
        if (!in->approvals)
                return -ENOMEM;
        for (size_t i = 0; paths && i < paths->array.count; i++) {
                const char *p = paths->array.items[i]->string.ptr;
                char *data = NULL;
                size_t len = 0;
                int r = csc_read_file(p, CSC_APPROVAL_MAX_BYTES, &data, &len);
                if (r < 0)
                        return bad(e, es, "approvals[%zu]: cannot read '%.300s': %s", i, p,
                                   r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
                csc_json_doc *ad = NULL;
                csc_error err = { 0 };
                r = csc_json_parse(data, len, &ad, &err);
                free(data);
                if (r < 0)
                        return r == -ENOMEM ? r : bad(e, es, "approvals[%zu]: '%.300s' is not JSON: %s", i, p, err.message);
                r = csc_json_array_append(in->doc, in->approvals, csc_json_copy(in->doc, csc_json_doc_root(ad)));
                csc_json_doc_free(ad);
                if (r < 0)
                        return r;
        }
        return 0;
}

int mcp_input_build(const csc_json *args, const mcp_identity *who, bool with_approvals, mcp_input *ret,
                    char *e, size_t es) {
        mcp_input in = { .doc = csc_json_doc_new() };
        if (!in.doc)
                return -ENOMEM;
        csc_json *empty = args ? NULL : csc_json_new_object(in.doc);
        if (!args)
                args = empty;
        int r = args ? check_types(args, e, es) : -ENOMEM;
        r = r ?: check_shapes(args, e, es);
        const csc_json *given = csc_json_get(args, "contract");
        in.from_args = !given;
        if (!r) {
                in.contract = given ? contract_given(in.doc, given, who) : contract_from_args(in.doc, args, who);
                r = in.contract ? 0 : -ENOMEM;
        }
        const csc_json *env = csc_json_get(args, "env");
        if (!r && env && !(in.env = csc_json_copy(in.doc, env)))
                r = -ENOMEM;
        if (!r && with_approvals && csc_json_get(args, "approvals"))
                r = load_approvals(&in, csc_json_get(args, "approvals"), e, es);
        csc_contract *ct = NULL;
        csc_error err = { 0 };
        if (!r && (r = csc_contract_from_json(in.contract, &ct, &err)) < 0 && r != -ENOMEM) {
                char where[CSC_ERROR_PATH_MAX + 16];
                arg_path(err.path, in.from_args, where, sizeof where);
                r = bad(e, es, "%s: %s", where[0] ? where : "contract", err.message);
        }
        if (!r)
                memcpy(in.contract_sha256, ct->sha256, sizeof in.contract_sha256);
        csc_contract_free(ct);
        if (r) {
                csc_json_doc_free(in.doc);
                return r;
        }
        *ret = in;
        return 0;
}

void mcp_input_done(mcp_input *in) {
        in->doc = csc_json_doc_free(in->doc);
}
