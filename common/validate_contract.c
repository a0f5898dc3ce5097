/* validate_contract.c — placeholder until implemented. */
