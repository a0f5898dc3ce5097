/* cscd.c — entry point of the daemon: options, then the Manager runs. */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "config.h"
#include "configtest.h"
#include "log.h"
#include "manager.h"
#include "manager_load.h"

/* EX_CONFIG: a bad cscd.conf, policy or key; systemd does not restart on it
 * (RestartPreventExitStatus=78 in cscd.service). */
#define EXIT_CONFIG 78

static const char usage[] =
        "usage: cscd [--config FILE] [--socket PATH] [--policy FILE] [--state-dir DIR]\n"
        "            [--signing-key FILE --key-id ID] [-t | -T]\n"
        "Runs the CSC command-contract daemon. Uses the socket passed by systemd\n"
        "(LISTEN_FDS) when present, else binds --socket.\n"
        "  --config FILE       configuration (default " CSC_CONFDIR "/cscd.conf if it exists)\n"
        "  --socket PATH       socket to bind (default /run/csc.sock)\n"
        "  --policy FILE       policy (default " CSC_CONFDIR "/policy.yaml)\n"
        "  --state-dir DIR     state directory (default /var/lib/csc)\n"
        "  --signing-key FILE  Ed25519 signing key (else config, else the systemd\n"
        "                      credential csc-signing-key)\n"
        "  --key-id ID         id of the signing key\n"
        "  -t, --test-config   load config, policy, keys, approvers and the state and\n"
        "                      secrets dirs as a start would, report every error as\n"
        "                      file:line:column: what, and exit 0 or 78\n"
        "  -T, --print-config  print the effective configuration and exit\n"
        "  -h, --help          this help;  --version  the version\n"
        "Exit: 78 (EX_CONFIG) when the config, policy or key cannot be loaded.\n"
        "Signals: SIGHUP reloads config, policy and keys and reopens receipts.jsonl;\n"
        "SIGTERM stops gracefully.\n";

static int run(int argc, char **argv) {
        static const struct option opts[] = {
                { "config",      required_argument, NULL, 'c' },
                { "socket",      required_argument, NULL, 's' },
                { "policy",      required_argument, NULL, 'p' },
                { "state-dir",   required_argument, NULL, 'd' },
                { "signing-key", required_argument, NULL, 'k' },
                { "key-id",      required_argument, NULL, 'i' },
                { "test-config", no_argument,       NULL, 't' },
                { "print-config", no_argument,      NULL, 'T' },
                { "help",        no_argument,       NULL, 'h' },
                { "version",     no_argument,       NULL, 'V' },
                {}
        };
        const char *config = NULL, *sock = NULL, *policy = NULL, *state = NULL, *key = NULL, *key_id = NULL;
        int c, mode = 0;
        while ((c = getopt_long(argc, argv, "htT", opts, NULL)) != -1)
                switch (c) {
                case 'c': config = optarg; break;
                case 's': sock = optarg; break;
                case 'p': policy = optarg; break;
                case 'd': state = optarg; break;
                case 'k': key = optarg; break;
                case 'i': key_id = optarg; break;
                case 't': case 'T': mode = c; break;
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
        if (!config && access(CSC_CONFDIR "/cscd.conf", F_OK) == 0)
                config = CSC_CONFDIR "/cscd.conf";
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
        if (mode) {
                r = mode == 't' ? cscd_config_test(m) : cscd_config_print(m, stdout);
                manager_free(m);
                return r;
        }
        r = manager_load(m);
        if (r >= 0)
                r = manager_listen(m);
        if (r >= 0)
                r = manager_run(m);
        bool config_error = m->config_error;
        manager_free(m);
        return r >= 0 ? 0 : config_error ? EXIT_CONFIG : 1;
}

int main(int argc, char **argv) {
        return run(argc, argv);
}
