/* base64.c — placeholder until implemented. */
