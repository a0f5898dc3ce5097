/* bench.h — the parts of csc-bench. Each prints its table and, when json is
 * not NULL, writes its members (no surrounding braces) to it. */
#pragma once
#include <stdio.h>

int bench_decision(FILE *json);
/* Needs root; starts cscd (path) itself. n: submits per measurement. */
int bench_submit(const char *cscd, int n, FILE *json);
/* Starts the egress proxy (path) and compares a CONNECT tunnel through it
 * with a direct loopback copy of mib MiB per round. */
int bench_egress(const char *proxy, int mib, FILE *json);
