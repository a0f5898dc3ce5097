/* fuzz_approval.c — approval validation and checking, with and without a
 * trusted approver key. */
#include <stdint.h>
#include <string.h>

#include "approval.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        csc_json_doc *doc = NULL;
        if (csc_json_parse((const char *)data, size, &doc, NULL) < 0)
                return 0;
        csc_approver_key key = { .key = { .key_id = "k" }, .identity = "alice" };
        memset(key.key.key, 0x42, 32);
        csc_approval_view v;
        char why[512];
        static const char sha[] = "0000000000000000000000000000000000000000000000000000000000000000";
        csc_approval_check(csc_json_doc_root(doc), sha, 1800000000000000LL, NULL, 0, &v, why, sizeof why);
        csc_approval_check(csc_json_doc_root(doc), sha, 1800000000000000LL, &key, 1, &v, why, sizeof why);
        csc_json_doc_free(doc);
        return 0;
}
