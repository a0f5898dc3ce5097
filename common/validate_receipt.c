/* validate_receipt.c — placeholder until implemented. */
