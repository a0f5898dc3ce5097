/* timefmt.c — placeholder until implemented. */
