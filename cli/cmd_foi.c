/* placeholder: being written (issue 8) */
#include "cli/cli.h"
int cmd_foi(cor_cli_t *cli, int argc, char **argv) { (void) cli; (void) argc; (void) argv; return cli_error("not written yet"); }
int cmd_sar(cor_cli_t *cli, int argc, char **argv) { (void) cli; (void) argc; (void) argv; return cli_error("not written yet"); }
