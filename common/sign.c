/* sign.c — placeholder until implemented. */
