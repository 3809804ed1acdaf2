/* placeholder: being written (issue 8) */
#include "cli/cli.h"
int cmd_case(cor_cli_t *cli, int argc, char **argv) { (void) cli; (void) argc; (void) argv; return cli_error("not written yet"); }
