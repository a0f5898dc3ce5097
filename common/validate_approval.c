/* validate_approval.c — placeholder until implemented. */
