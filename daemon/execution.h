/* execution.h — a submit's execution, from its decision to its receipt
 * (submit.c: gates, sandbox, output; execution.c: its life in the manager;
 * execution_receipt.c: the signed receipt). Its frames go to the client
 * through an execution_sink, so the module calls no transport function. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "contract.h"
#include "json.h"
#include "manager.h"

typedef struct conn conn;
typedef struct execution execution;

/* Where an execution's frames go; c is the client's connection, opaque to
 * the execution (it reads the peer's identity from it, conn_peer). */
typedef struct execution_sink {
        /* Queues one frame; < 0: the connection is failing (it ends itself). */
        int (*send)(conn *c, const csc_json *frame);
        /* Sends an error frame {code, message[, path]}. */
        int (*send_error)(conn *c, const char *code, const char *message, const char *path);
        /* e now runs for c; NULL: it ended, c may read its next request. */
        void (*set_execution)(conn *c, execution *e);
} execution_sink;

/* A valid, admitted submit: decide, then block or run it. Takes ct. Every
 * frame goes through sink to c. */
int execution_run(manager *m, const execution_sink *sink, conn *c, const csc_json *request, csc_contract *ct);
unsigned execution_count_of_uid(const manager *m, uid_t uid);
/* The receipt is signed and waits for the group commit before it is sent. */
bool execution_receipt_pending(const execution *e);
/* Unlinks and frees e, then tells the manager (m->execution_freed). */
execution *execution_free(execution *e);
/* The client went away: kill the sandbox, still sign and log a receipt. */
void execution_cancel(execution *e, const char *why);
/* Output backpressure from the connection. */
void execution_set_paused(execution *e, bool paused);
/* cscd is stopping and the grace period is over: kill every sandbox. */
void execution_kill_all(manager *m, const char *why);
