/* policy.c — placeholder until implemented. */
