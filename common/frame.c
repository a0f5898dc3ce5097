/* frame.c — placeholder until implemented. */
