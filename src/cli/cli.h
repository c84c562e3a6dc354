/* cli.h - the clnet command's subcommands (one file each in src/cli/). The CLI
 * uses only the public header. */
#ifndef CLNET_CLI_H
#define CLNET_CLI_H

#include "clnet.h"

int clnet_cli_devices(int argc, char **argv);
int clnet_cli_selftest(int argc, char **argv);
int clnet_cli_summary(int argc, char **argv);

/* Prints "clnet <cmd>: <msg>" to stderr; returns 1 for `return cli_error(...)`. */
int clnet_cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
