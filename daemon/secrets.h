/* secrets.h — resolving a contract's secret_refs against cscd.conf's
 * secrets_dir (root-only): one file per name, read by the daemon only after
 * the decision allowed them, handed to the executor for /run/secrets/NAME,
 * and used to redact the values from the streamed output. Never logged. */
#pragma once
#include <stddef.h>

#include "contract.h"

typedef struct cscd_secret {
        char *name;
        char *value;
        size_t len;
        size_t command;          /* index of the command that declared it */
} cscd_secret;

#define CSCD_SECRET_MAX_BYTES (64 * 1024)

/* 0 loaded (*ret may be NULL when there are none), 1 blocked with why (an
 * unknown name, an unsafe directory), or -ENOMEM. */
int cscd_secrets_load(const char *dir, const csc_contract *c, cscd_secret **ret, size_t *n, char *why,
                      size_t why_size);
void cscd_secrets_free(cscd_secret *s, size_t n);
