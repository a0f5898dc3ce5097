/* unit_contract.h — the unit tests' typed contract from JSON text (NULL,
 * with the reason printed as a TAP comment, when it does not parse). */
#pragma once
#include <stdio.h>
#include <string.h>

#include "contract.h"
#include "json.h"

static inline csc_contract *unit_contract(const char *text) {
        csc_json_doc *doc = NULL;
        csc_error err = { 0 };
        csc_contract *c = NULL;
        if (csc_json_parse(text, strlen(text), &doc, &err) < 0 ||
            csc_contract_from_json(csc_json_doc_root(doc), &c, &err) < 0)
                printf("# cannot build the contract: %s %s\n", err.path, err.message);
        csc_json_doc_free(doc);
        return c;
}
