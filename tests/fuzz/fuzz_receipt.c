/* fuzz_receipt.c — receipt validation and signature verification. */
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "sign.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        csc_json_doc *doc = NULL;
        if (csc_json_parse((const char *)data, size, &doc, NULL) < 0)
                return 0;
        csc_error err;
        csc_validate_receipt(csc_json_doc_root(doc), &err);
        csc_public_key k = { .key_id = NULL };
        /* the Ed25519 base point: a valid key, so verification runs to the end */
        static const unsigned char bp[32] = { 0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                              0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                              0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 };
        memcpy(k.key, bp, 32);
        csc_verify_result res;
        csc_verify_object(csc_json_doc_root(doc), &k, 1, NULL, &res);
        csc_json_doc_free(doc);
        return 0;
}
