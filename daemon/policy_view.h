/* policy_view.h — the reply to the `policy` request: what the live policy
 * (and the daemon's own settings that narrow it) let the asking user do, so
 * an agent can plan inside its scope instead of guessing. */
#pragma once
#include "config.h"
#include "json.h"
#include "peer.h"
#include "policy.h"

/* Builds the `policy` reply frame in doc. 0 or -ENOMEM. */
int policy_view_json(const csc_policy *p, const cscd_peer *peer, const cscd_config *cfg, csc_json_doc *doc,
                     csc_json **ret);
