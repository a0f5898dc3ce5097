/* validate_decision.c — placeholder until implemented. */
