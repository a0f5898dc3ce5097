/* mcp_args.h — turns the arguments of csc_check / csc_run / csc_start into
 * one CSC v0.1 contract (plus the env values and approval artifacts of the
 * submit request), checking every argument and naming the one that is wrong.
 * Also keeps contracts that need approval under the user's state directory
 * and finds them again when the same call returns with an approval. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "json.h"

/* Who is calling: fills the contract's actor. */
typedef struct mcp_identity {
        const char *agent_id;     /* the host's clientInfo.name */
        const char *session_id;   /* one per server process */
        const char *user;         /* login name */
        const char *cwd;          /* default cwd */
} mcp_identity;

typedef struct mcp_input {
        csc_json_doc *doc;        /* owns the values below */
        csc_json *contract;
        csc_json *env;            /* {NAME: value} or NULL */
        csc_json *approvals;      /* approval artifacts (objects) or NULL */
        bool from_args;           /* built from argv/pipeline, not a given contract */
        char contract_sha256[65];
} mcp_input;

/* 0 with *ret filled; 1 when the arguments are invalid (ret_error names the
 * argument); -ENOMEM. with_approvals: read the `approvals` files. */
int mcp_input_build(const csc_json *args, const mcp_identity *who, bool with_approvals, mcp_input *ret,
                    char *ret_error, size_t error_size);
void mcp_input_done(mcp_input *in);

/* Saves the contract as $XDG_STATE_HOME/csc/pending/SHA256.json (else
 * ~/.local/state/...), creating the directories with mode 0700. 0 with the
 * path in ret_path, or -errno. */
int mcp_pending_save(const mcp_input *in, char *ret_path, size_t path_size);
/* When an approval names the hash of a saved pending contract that differs
 * from in->contract only in contract_id and actor (which the server fills in
 * afresh on every call), switches in->contract to that saved contract: what
 * the human approved. 1 switched, 0 not, -errno. */
int mcp_pending_match(mcp_input *in);
