/* receipt.c — placeholder until implemented. */
