/* test-config.c — cscd.conf parsing: defaults, every kind of setting, and a
 * clear error naming the key for unknown keys, wrong types and ranges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tap.h"

static void fails(const char *text, const char *want) {
        cscd_config *c = NULL;
        csc_error err = { 0 };
        char buf[CSC_ERROR_PATH_MAX + CSC_ERROR_MSG_MAX + 4];
        int r = cscd_config_load_text(text, strlen(text), &c, &err);
        csc_error_str(&err, buf, sizeof buf);
        CHECK(r < 0 && strstr(buf, want), "'%s': want '%s', got %d '%s'", text, want, r, buf);
        cscd_config_free(c);
}

static void count_error(const csc_error *e, void *userdata) {
        (void)e;
        (*(unsigned *)userdata)++;
}

int main(void) {
        cscd_config *c = NULL;
        CHECK(cscd_config_defaults(&c) == 0 && c->socket_mode == 0666 && c->max_executions == 64 &&
                      c->max_executions_per_peer == 16 && c->block_interpreters && !c->allow_root_submit &&
                      c->rlimit_as_bytes == 1ull << 30 && c->pids_max == 512 && strcmp(c->key_id, "cscd") == 0,
              "defaults");
        cscd_config_free(c);
        c = NULL;
        const char good[] = "socket: /run/x.sock\nsocket_mode: \"0660\"\nsocket_group: agents\n"
                            "submit_groups: [agents]\nadmin_users: [alice]\nallow_root_submit: false\n"
                            "max_executions: 8\nmax_executions_per_peer: 4\ntmp_size_bytes: 1048576\n"
                            "mask_paths: [/srv/private]\nblock_interpreters: false\n";
        csc_error err = { 0 };
        CHECK(cscd_config_load_text(good, sizeof good - 1, &c, &err) == 0, "good: %s %s", err.path, err.message);
        if (c) {
                CHECK(c->socket_mode == 0660 && strcmp(c->socket_group, "agents") == 0 && c->max_executions == 8 &&
                              cscd_strlist_has(&c->submit_groups, "agents") && cscd_strlist_has(&c->admin_users, "alice") &&
                              c->mask_paths.n == 1 && !c->block_interpreters,
                      "values");
                cscd_config_free(c);
        }
        c = NULL;
        CHECK(cscd_config_load_text("", 0, &c, &err) == 0 && c && c->max_executions == 64, "empty file = defaults");
        cscd_config_free(c);
        /* approvals bound to the submitting user: on by default, settable, typed */
        c = NULL;
        CHECK(cscd_config_defaults(&c) == 0 && c->approval_requires_initiating_user, "approval_requires_initiating_user default");
        cscd_config_free(c);
        c = NULL;
        const char off[] = "approval_requires_initiating_user: false\n";
        CHECK(cscd_config_load_text(off, sizeof off - 1, &c, &err) == 0 && c && !c->approval_requires_initiating_user,
              "approval_requires_initiating_user: false");
        cscd_config_free(c);
        fails("approval_requires_initiating_user: 1\n", "approval_requires_initiating_user");
        fails("max_exections: 5\n", "unknown setting \"max_exections\"");
        fails("max_executions: 0\n", "max_executions");
        fails("max_executions: 5.0\n", "max_executions");
        fails("max_executions: '5'\n", "max_executions");
        fails("socket_mode: 0660\n", "invalid YAML");                  /* an ambiguous number */
        fails("socket_mode: \"0999\"\n", "socket_mode");
        fails("socket: relative.sock\n", "absolute path");
        fails("allow_root_submit: yes\n", "YAML 1.1 boolean");
        fails("max_executions: 2\nmax_executions_per_peer: 4\n", "must not exceed max_executions");
        /* The admission queue's bound: default 256, 0 (refuse at once) allowed, typed and bounded. */
        c = NULL;
        CHECK(cscd_config_defaults(&c) == 0 && c->max_queued == 256, "max_queued default 256");
        cscd_config_free(c);
        c = NULL;
        CHECK(cscd_config_load_text("max_queued: 0\n", 14, &c, &err) == 0 && c && c->max_queued == 0, "max_queued: 0");
        cscd_config_free(c);
        c = NULL;
        CHECK(cscd_config_load_text("max_queued: 3\n", 14, &c, &err) == 0 && c && c->max_queued == 3, "max_queued: 3");
        cscd_config_free(c);
        fails("max_queued: -1\n", "max_queued");
        fails("max_queued: 65537\n", "max_queued");
        fails("max_queued: many\n", "max_queued");
        fails("- a\n", "mapping");
        /* Connection shares: defaults, bounds, and room kept for users with a role. */
        c = NULL;
        CHECK(cscd_config_defaults(&c) == 0 && c->max_connections == 256 && c->max_connections_per_uid == 64 &&
                      c->max_connections_no_role == 16,
              "connection defaults");
        cscd_config_free(c);
        c = NULL;
        const char shares[] = "max_connections: 10\nmax_connections_per_uid: 3\nmax_connections_no_role: 0\n";
        CHECK(cscd_config_load_text(shares, sizeof shares - 1, &c, &err) == 0 && c && c->max_connections == 10 &&
                      c->max_connections_per_uid == 3 && c->max_connections_no_role == 0,
              "connection shares: %s %s", err.path, err.message);
        cscd_config_free(c);
        c = NULL;
        const char at_edge[] = "max_connections: 65536\nmax_connections_per_uid: 65536\nmax_connections_no_role: 65535\n";
        CHECK(cscd_config_load_text(at_edge, sizeof at_edge - 1, &c, &err) == 0 && c &&
                      c->max_connections_no_role == 65535,
              "connection shares at their maximum: %s %s", err.path, err.message);
        cscd_config_free(c);
        fails("max_connections_per_uid: 0\n", "max_connections_per_uid");
        fails("max_connections_per_uid: 65537\n", "max_connections_per_uid");
        fails("max_connections_no_role: -1\n", "max_connections_no_role");
        fails("max_connections_no_role: 65536\n", "max_connections_no_role");
        fails("max_connections_no_role: \"4\"\n", "max_connections_no_role");
        c = NULL;
        CHECK(cscd_config_load_text("max_connections: 16\n", 20, &c, &err) == 0 && c &&
                      c->max_connections_no_role == 8,
              "a small max_connections halves the default no-role share: %s %s", err.path, err.message);
        cscd_config_free(c);
        c = NULL;
        CHECK(cscd_config_load_text("max_connections: 1\n", 19, &c, &err) == 0 && c &&
                      c->max_connections_no_role == 0,
              "max_connections 1 leaves no room for peers without a role: %s %s", err.path, err.message);
        cscd_config_free(c);
        fails("max_connections: 16\nmax_connections_no_role: 16\n", "must be less than max_connections (16)");
        fails("max_connections: 8\nmax_connections_no_role: 8\n", "max_connections_no_role");
        fails("a: 1\na: 2\n", "duplicate key");
        fails("mask_paths: [relative]\n", "mask_paths[0]");
        fails("approvers: [{identity: a}]\n", "missing required key \"key_id\"");
        fails("approvers: [{identity: a, key_id: k, public_key: /nonexistent.pub}]\n", "approvers[0].public_key");
        fails("approvers: [{identity: a, key_id: k, public_key: /x, extra: 1}]\n", "unknown key \"extra\"");
        /* signing_keys: one active key that signs, retired ones published. */
        const char rot[] = "signing_keys:\n"
                           "  - {key_id: new, private_key: /k/new.key, active: true}\n"
                           "  - {key_id: old, public_key: /k/old.pub}\n";
        c = NULL;
        CHECK(cscd_config_load_text(rot, sizeof rot - 1, &c, &err) == 0, "signing_keys: %s %s", err.path, err.message);
        if (c) {
                CHECK(c->n_signing_keys == 2 && strcmp(c->key_id, "new") == 0 &&
                              strcmp(c->signing_key_path, "/k/new.key") == 0 && !c->signing_keys[1].active &&
                              strcmp(c->signing_keys[1].public_key, "/k/old.pub") == 0,
                      "signing_keys: the active entry is the signing key");
                cscd_config_free(c);
        }
        fails("signing_keys: []\n", "non-empty list");
        fails("signing_keys: [{key_id: a, public_key: /a.pub}]\n", "no key is active");
        fails("signing_keys: [{key_id: a, private_key: /a, active: true}, {key_id: b, private_key: /b, active: true}]\n",
              "only one key may be active");
        fails("signing_keys: [{key_id: a, private_key: /a, active: true}, {key_id: a, public_key: /a.pub}]\n",
              "listed twice");
        fails("signing_keys: [{key_id: a, private_key: /a, active: true}, {key_id: b, private_key: /b}]\n",
              "only published");
        fails("signing_keys: [{key_id: a, active: true}]\n", "needs private_key");
        fails("signing_keys: [{key_id: a/b, private_key: /a, active: true}]\n", "invalid key_id");
        fails("signing_keys: [{key_id: a, private_key: /a, active: true, extra: 1}]\n", "unknown key \"extra\"");
        fails("key_id: x\nsigning_keys: [{key_id: a, private_key: /a, active: true}]\n", "not both");
        /* cscd -t: every wrong setting is reported, the right ones still load. */
        const char three[] = "max_exections: 5\nmax_executions: 0\nsocket: rel\nstop_grace_sec: 3\n";
        unsigned n_seen = 0;
        c = NULL;
        int n = cscd_config_check_each(three, sizeof three - 1, count_error, &n_seen, &c, &err);
        CHECK(n == 3 && n_seen == 3 && c && c->stop_grace_sec == 3, "check_each: 3 errors (%d, %u), partial config", n,
              n_seen);
        cscd_config_free(c);
        /* egress_allow_private: CIDRs as cscd-egress reads them, at most 64 */
        {
                const char t[] = "egress_allow_private: [127.0.0.0/8, 10.1.0.0/16, \"fd00::/8\", 192.0.2.7]\n";
                cscd_config *e = NULL;
                CHECK(cscd_config_load_text(t, sizeof t - 1, &e, NULL) == 0 && e->egress_allow_private.n == 4 &&
                              strcmp(e->egress_allow_private.v[2], "fd00::/8") == 0,
                      "egress_allow_private");
                cscd_config_free(e);
                char many[64 * 16 + 64] = "egress_allow_private: [";
                for (int i = 0; i < 65; i++)
                        snprintf(many + strlen(many), sizeof many - strlen(many), "%s10.0.%d.0/24", i ? "," : "", i);
                strcat(many, "]\n");
                fails(many, "at most 64 ranges");
                fails("egress_allow_private: [10.0.0.1/8]\n", "egress_allow_private[0]: must be an address range");
                fails("egress_allow_private: [127.0.0.0/8, 127.1/8]\n", "egress_allow_private[1]");
                fails("egress_allow_private: [example.com]\n", "egress_allow_private[0]");
                fails("egress_allow_private: 10.0.0.0/8\n", "must be a list");
        }
        /* protected_paths: the default list; protected_paths replaces it,
         * protected_paths_extra adds to it; every entry relative, no '..'. */
        c = NULL;
        CHECK(cscd_config_defaults(&c) == 0 && c->protected_paths.n == 18 &&
                      cscd_strlist_has(&c->protected_paths, ".git/hooks") &&
                      cscd_strlist_has(&c->protected_paths, ".bashrc") && cscd_strlist_has(&c->protected_paths, ".idea") &&
                      c->protected_paths_extra.n == 0 && c->protected_walk_max_entries == 200000 &&
                      c->protected_walk_max_depth == 64 && c->protected_walk_timeout_ms == 5000,
              "protected_paths defaults");
        cscd_config_free(c);
        c = NULL;
        const char repl[] = "protected_paths: [.bashrc, .config/fish]\nprotected_paths_extra: [.cargo/config.toml]\n"
                            "protected_walk_max_entries: 50\nprotected_walk_max_depth: 3\n";
        CHECK(cscd_config_load_text(repl, sizeof repl - 1, &c, &err) == 0 && c && c->protected_paths.n == 2 &&
                      !cscd_strlist_has(&c->protected_paths, ".git/hooks") &&
                      cscd_strlist_has(&c->protected_paths_extra, ".cargo/config.toml") &&
                      c->protected_walk_max_entries == 50 && c->protected_walk_max_depth == 3,
              "protected_paths replaces, protected_paths_extra extends: %s %s", err.path, err.message);
        cscd_config_free(c);
        c = NULL;
        const char extra[] = "protected_paths_extra: [.cargo]\n";
        CHECK(cscd_config_load_text(extra, sizeof extra - 1, &c, &err) == 0 && c && c->protected_paths.n == 18 &&
                      c->protected_paths_extra.n == 1,
              "protected_paths_extra alone keeps the default list: %s %s", err.path, err.message);
        cscd_config_free(c);
        c = NULL;
        CHECK(cscd_config_load_text("protected_paths: []\n", 20, &c, &err) == 0 && c && c->protected_paths.n == 0,
              "an empty protected_paths turns protection off: %s %s", err.path, err.message);
        cscd_config_free(c);
        fails("protected_paths: [/etc/passwd]\n", "protected_paths[0]");
        fails("protected_paths: [.bashrc, ../x]\n", "protected_paths[1]");
        fails("protected_paths_extra: [a/../b]\n", "protected_paths_extra[0]");
        fails("protected_paths_extra: [a//b]\n", "empty segment");
        fails("protected_paths_extra: [./a]\n", "'.' or '..'");
        fails("protected_paths_extra: [a/]\n", "must not end with '/'");
        fails("protected_paths: .bashrc\n", "protected_paths");
        fails("protected_walk_max_depth: 0\n", "protected_walk_max_depth");
        fails("protected_walk_timeout_ms: 1\n", "protected_walk_timeout_ms");
        fails("protected_walk_timeout_ms: 20001\n", "protected_walk_timeout_ms");
        return tap_done("config");
}
