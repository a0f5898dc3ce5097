/* keys.c — placeholder until implemented. */
