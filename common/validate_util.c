/* validate_util.c — placeholder until implemented. */
