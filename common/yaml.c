/* yaml.c — placeholder until implemented. */
