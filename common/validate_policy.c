/* validate_policy.c — placeholder until implemented. */
