/* fuzz_config.c — cscd.conf parsing (strict YAML, every setting kind). */
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        cscd_config *c = NULL;
        csc_error err;
        if (cscd_config_load_text((const char *)data, size, &c, &err) == 0)
                cscd_config_free(c);
        return 0;
}
