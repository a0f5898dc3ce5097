/* fuzz_policy.c — the policy loader (strict YAML and JSON) end to end. */
#include <stdint.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        csc_policy *p = NULL;
        csc_error err;
        if (csc_policy_load_text((const char *)data, size, "<fuzz>", &p, &err) == 0)
                csc_policy_free(p);
        return 0;
}
