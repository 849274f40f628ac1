/*  cm_env - read and range-check configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Only a service's <pfx>_config_new() calls these, once at start. A bad
    value logs a clear message and exits with 78 (EX_CONFIG).
*/
#ifndef CM_ENV_H_INCLUDED
#define CM_ENV_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#define CM_EX_CONFIG 78

//  The value of `name`, or of the first of `name` and its `_FILE` variant,
//  or `dflt` when unset or empty. Caller owns return value (NULL if dflt
//  is NULL and nothing is set).
char *cm_env_str(const char *name, const char *dflt);

//  Integer in [min, max]; exits 78 when not a number or out of range.
long cm_env_long(const char *name, long dflt, long min, long max);

//  true/false/1/0/yes/no/on/off; exits 78 otherwise.
bool cm_env_bool(const char *name, bool dflt);

//  One of the `|`-separated `choices` (e.g. "constant|linear|exponential");
//  exits 78 otherwise. Caller owns return value.
char *cm_env_choice(const char *name, const char *dflt, const char *choices);

//  Exit 78 with a message naming the variable. Used by config parsers for
//  checks beyond the ones above.
void cm_env_fail(const char *name, const char *reason)
    __attribute__((noreturn));

void cm_env_test(bool verbose);

#endif
