/* egress_record.c — one execution's connections through the proxy (see
 * egress_record.h). Pure data: no I/O, no logging. */
#include "egress_record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "json.h"

struct egress_conn_record {
        char host[EGRESS_HOST_TEXT_MAX + 1];
        char address[EGRESS_ADDR_TEXT_MAX + 1];
        char reason[EGRESS_REASON_MAX + 1];
        uint16_t port;
        uint8_t verdict, proto;
        uint64_t bytes_up, bytes_down;
};

void egress_record_report(egress_record *r, const egress_msg_report *m) {
        r->reported++;
        r->allowed += m->verdict == EGRESS_VERDICT_ALLOWED;
        r->denied += m->verdict == EGRESS_VERDICT_DENIED;
        r->bytes_up += m->bytes_up;
        r->bytes_down += m->bytes_down;
        if (m->verdict != EGRESS_VERDICT_ALLOWED && m->bytes_up + m->bytes_down > 0 && m->address[0] &&
            strcmp(m->address, "-") != 0)
                r->touched = true;
        if (r->n_list == EGRESS_RECORD_LIST_MAX ||
            (!r->list && !(r->list = calloc(EGRESS_RECORD_LIST_MAX, sizeof *r->list)))) {
                r->not_listed++;
                return;
        }
        egress_conn_record *c = &r->list[r->n_list++];
        memcpy(c->host, m->host, sizeof c->host);
        memcpy(c->address, m->address, sizeof c->address);
        memcpy(c->reason, m->reason, sizeof c->reason);
        c->port = m->port;
        c->verdict = m->verdict;
        c->proto = m->proto;
        c->bytes_up = m->bytes_up;
        c->bytes_down = m->bytes_down;
}

void egress_record_done(egress_record *r, const egress_msg_exec_done *m) {
        r->got_done = true;
        if (r->proxy_lost)
                return;
        r->allowed = m->allowed;
        r->denied = m->denied;
        r->bytes_up = m->bytes_up;
        r->bytes_down = m->bytes_down;
}

unsigned egress_record_unreported(const egress_record *r) {
        return (r->proxy_lost || !r->got_done) && r->passed > r->reported ? r->passed - r->reported : 0;
}

bool egress_record_network_used(const egress_record *r) {
        return r->allowed > 0 || r->touched || egress_record_unreported(r) > 0;
}

static int add_int(csc_json_doc *doc, csc_json *o, const char *key, int64_t v) {
        return csc_json_object_set(doc, o, key, csc_json_new_int(doc, v));
}

static int add_str(csc_json_doc *doc, csc_json *o, const char *key, const char *v) {
        return csc_json_object_set(doc, o, key, csc_json_new_string(doc, v));
}

static int add_conn(csc_json_doc *doc, csc_json *list, const egress_conn_record *c) {
        csc_json *o = csc_json_new_object(doc);
        int r = o ? 0 : -ENOMEM;
        r = r ?: add_str(doc, o, "host", c->host);
        r = r ?: add_int(doc, o, "port", c->port);
        r = r ?: add_str(doc, o, "address", c->address);
        r = r ?: add_str(doc, o, "proto", egress_proto_name((egress_proto)c->proto));
        r = r ?: add_str(doc, o, "verdict", egress_verdict_name((egress_verdict)c->verdict));
        r = r ?: add_str(doc, o, "reason", c->reason);
        r = r ?: add_int(doc, o, "bytes_up", (int64_t)c->bytes_up);
        r = r ?: add_int(doc, o, "bytes_down", (int64_t)c->bytes_down);
        return r ?: csc_json_array_append(doc, list, o);
}

int egress_record_write_json(const egress_record *rec, csc_buf *b) {
        csc_json_doc *doc = csc_json_doc_new();
        csc_json *o = doc ? csc_json_new_object(doc) : NULL, *list = doc ? csc_json_new_array(doc) : NULL;
        int r = o && list ? 0 : -ENOMEM;
        for (size_t i = 0; i < rec->n_list && r == 0; i++)
                r = add_conn(doc, list, &rec->list[i]);
        r = r ?: add_int(doc, o, "allowed", rec->allowed);
        r = r ?: add_int(doc, o, "denied", rec->denied);
        r = r ?: add_int(doc, o, "bytes_up", (int64_t)rec->bytes_up);
        r = r ?: add_int(doc, o, "bytes_down", (int64_t)rec->bytes_down);
        r = r ?: csc_json_object_set(doc, o, "connections", list);
        r = r ?: add_int(doc, o, "connections_not_listed", (int64_t)rec->not_listed);
        r = r ?: add_int(doc, o, "refused_no_proxy", rec->refused);
        r = r ?: add_int(doc, o, "unreported", egress_record_unreported(rec));
        r = r ?: add_str(doc, o, "proxy", rec->proxy_lost   ? "lost"
                                          : rec->got_done   ? "ok"
                                          : rec->registered ? "no final report"
                                                            : "unavailable");
        r = r ?: csc_buf_puts(b, "\"egress\":");
        r = r ?: csc_canon_write(o, b);
        r = r ?: csc_buf_putc(b, ',');
        csc_json_doc_free(doc);
        return r;
}

void egress_record_clear(egress_record *r) {
        free(r->list);
        *r = (egress_record) { 0 };
}
