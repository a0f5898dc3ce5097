/* uuid.h — random (version 4) UUIDs for execution and approval ids. */
#pragma once

#define CSC_UUID_BUF 37

/* Fills out with a lower-case RFC 9562 version-4 UUID from libsodium's CSPRNG. */
void csc_uuid4(char out[CSC_UUID_BUF]);
