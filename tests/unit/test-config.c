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
        fails("max_exections: 5\n", "unknown setting \"max_exections\"");
        fails("max_executions: 0\n", "max_executions");
        fails("max_executions: 5.0\n", "max_executions");
        fails("max_executions: '5'\n", "max_executions");
        fails("socket_mode: 0660\n", "invalid YAML");                  /* an ambiguous number */
        fails("socket_mode: \"0999\"\n", "socket_mode");
        fails("socket: relative.sock\n", "absolute path");
        fails("allow_root_submit: yes\n", "YAML 1.1 boolean");
        fails("max_executions: 2\nmax_executions_per_peer: 4\n", "must not exceed max_executions");
        fails("- a\n", "mapping");
        fails("a: 1\na: 2\n", "duplicate key");
        fails("mask_paths: [relative]\n", "mask_paths[0]");
        fails("approvers: [{identity: a}]\n", "missing required key \"key_id\"");
        fails("approvers: [{identity: a, key_id: k, public_key: /nonexistent.pub}]\n", "approvers[0].public_key");
        fails("approvers: [{identity: a, key_id: k, public_key: /x, extra: 1}]\n", "unknown key \"extra\"");
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
        return tap_done("config");
}
