/* cscd.c — entry point of the daemon: options, then the Manager runs. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "log.h"
#include "manager.h"

static const char usage[] =
        "usage: cscd [--config FILE] [--socket PATH] [--policy FILE] [--state-dir DIR]\n"
        "            [--signing-key FILE --key-id ID]\n"
        "Runs the CSC command-contract daemon. Uses the socket passed by systemd\n"
        "(LISTEN_FDS) when present, else binds --socket.\n"
        "  --config FILE       configuration (default /etc/csc/cscd.conf if it exists)\n"
        "  --socket PATH       socket to bind (default /run/csc.sock)\n"
        "  --policy FILE       policy (default /etc/csc/policy.yaml)\n"
        "  --state-dir DIR     state directory (default /var/lib/csc)\n"
        "  --signing-key FILE  Ed25519 signing key (else config, else the systemd\n"
        "                      credential csc-signing-key)\n"
        "  --key-id ID         id of the signing key\n"
        "  -h, --help          this help;  --version  the version\n"
        "Signals: SIGHUP reloads policy and keys; SIGTERM stops gracefully.\n";

static int run(int argc, char **argv) {
        static const struct option opts[] = {
                { "config",      required_argument, NULL, 'c' },
                { "socket",      required_argument, NULL, 's' },
                { "policy",      required_argument, NULL, 'p' },
                { "state-dir",   required_argument, NULL, 'd' },
                { "signing-key", required_argument, NULL, 'k' },
                { "key-id",      required_argument, NULL, 'i' },
                { "help",        no_argument,       NULL, 'h' },
                { "version",     no_argument,       NULL, 'V' },
                {}
        };
        const char *config = NULL, *sock = NULL, *policy = NULL, *state = NULL, *key = NULL, *key_id = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
                switch (c) {
                case 'c': config = optarg; break;
                case 's': sock = optarg; break;
                case 'p': policy = optarg; break;
                case 'd': state = optarg; break;
                case 'k': key = optarg; break;
                case 'i': key_id = optarg; break;
                case 'h': fputs(usage, stdout); return 0;
                case 'V': printf("cscd %s (CSC v0.1, sandbox profile cscd-v1)\n", CSC_VERSION); return 0;
                default:  fputs(usage, stderr); return 64;
                }
        if (optind < argc) {
                fprintf(stderr, "cscd: unexpected argument '%s'\n%s", argv[optind], usage);
                return 64;
        }
        if (key && !key_id) {
                fprintf(stderr, "cscd: --signing-key needs --key-id\n");
                return 64;
        }
        if (sodium_init() < 0) {
                log_error("libsodium could not be initialised");
                return 1;
        }
        manager *m = NULL;
        int r = manager_new(&m);
        if (r < 0) {
                log_error_errno(r, "cannot set up the event loop");
                return 1;
        }
        if (!config && access("/etc/csc/cscd.conf", F_OK) == 0)
                config = "/etc/csc/cscd.conf";
        m->config_path = config ? strdup(config) : NULL;
        if (config && !m->config_path) {   /* never fall back to the built-in defaults */
                log_error("cannot load config %s: out of memory", config);
                manager_free(m);
                return 1;
        }
        m->opt_socket = sock;
        m->opt_policy = policy;
        m->opt_state_dir = state;
        m->opt_key = key;
        m->opt_key_id = key_id;
        r = manager_load(m);
        if (r >= 0)
                r = manager_listen(m);
        if (r >= 0)
                r = manager_run(m);
        manager_free(m);
        return r < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        return run(argc, argv);
}
