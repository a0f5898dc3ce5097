/* fuzz_egress_proto.c — the cscd <-> cscd-egress control messages: any
 * datagram either fails to decode or decodes to a message that encodes back
 * to the very same bytes (one spelling per message). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "egress_match.h"
#include "egress_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static egress_msg msg;
static egress_wbuf wb;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t *p = malloc(size ? size : 1);
        memcpy(p, data, size);
        if (egress_msg_decode(p, size, &msg, NULL) == 0) {
                if (egress_msg_encode(&msg, &wb) != 0 || wb.len != size || memcmp(wb.data, p, size) != 0)
                        abort();
                if (msg.type == EGRESS_MSG_EXEC_BEGIN) {
                        egress_allowlist *al = NULL;
                        if (egress_allowlist_new(msg.exec_begin.hosts, msg.exec_begin.n_hosts, &al, NULL, NULL) == 0)
                                free(al);
                }
        }
        free(p);
        return 0;
}
