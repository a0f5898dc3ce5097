/* policy_ref.c — the reference count of a loaded policy. */
#include <stdlib.h>

#include "policy_ref.h"

policy_ref *policy_ref_get(policy_ref *p) {
        if (p)
                p->n_ref++;
        return p;
}

policy_ref *policy_ref_put(policy_ref *p) {
        if (p && --p->n_ref == 0) {
                csc_policy_free(p->policy);
                free(p);
        }
        return NULL;
}