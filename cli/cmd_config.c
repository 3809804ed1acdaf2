/* cli/cmd_config.c — `corridor config show`: every tunable with its
 * effective value, from the one table in core/config.c, then the open
 * sections ([follow], [retention]) with the keys the file gives them. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char *
type_name(cor_config_type_t t)
{
    switch (t) {
    case COR_CONFIG_STRING:   return "string";
    case COR_CONFIG_INT:      return "integer";
    case COR_CONFIG_BOOL:     return "true/false";
    case COR_CONFIG_SIZE:     return "size";
    case COR_CONFIG_DURATION: return "duration";
    case COR_CONFIG_LIST:     return "list";
    }
    return "?";
}

int
cmd_config(cor_cli_t *cli, int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("show - print the effective configuration");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2 || strcmp(argv[1], "show") != 0)
        return cli_error("usage: corridor config show");
    const char *path = cor_config_path(cli->config);
    printf("# corridor configuration: effective values\n# file: %s\n",
           path ? path : "(none: all defaults)");
    const char *section = NULL;
    for (const cor_tunable_t *t = cor_config_tunables(); t->section; t++) {
        if (section == NULL || strcmp(section, t->section) != 0) {
            section = t->section;
            printf("\n[%s]\n", section);
        }
        printf("# %s (%s, default: %s)\n", t->help, type_name(t->type),
               *t->default_value ? t->default_value : "empty");
        printf("%s = %s%s\n", t->key, cor_config_value_text(cli->config, t->section, t->key),
               cor_config_is_set(cli->config, t->section, t->key) ? "" : "");
        if (strcmp(t->section, "records") == 0 && strcmp(t->key, "officers") == 0) {
            g_autofree char *in_force =
                g_strjoinv(", ", (char **) cor_config_officers(cli->config));
            printf("# in force (with [http] officers and user_domain): %s\n",
                   *in_force ? in_force : "nobody");
        }
    }
    /* the open sections: keys the administrator names, each value a list */
    for (const cor_config_open_section_t *o = cor_config_open_sections(); o->section; o++) {
        printf("\n[%s]\n# %s\n", o->section, o->help);
        const char *const *keys = cor_config_open_keys(cli->config, o->section);
        if (!*keys)
            printf("# (none set)\n");
        for (const char *const *k = keys; *k; k++) {
            g_autofree char *v =
                g_strjoinv(", ", (char **) cor_config_open_list(cli->config, o->section, *k));
            printf("%s = %s\n", *k, v);
        }
    }
    return 0;
}
