/* cli/cmd_postfix.c — `corridor postfix-maps DIR` and `corridor exim-config`:
 * the MTA side of the LMTP hook (docs/postfix.md, docs/exim.md). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "mta-bridge/postfix_maps.h"

/* The list domains: [lmtp] domains, else [postfix] domain, else `extra`. */
static GPtrArray *
list_domains(cor_cli_t *cli, const char *extra)
{
    GPtrArray *d = g_ptr_array_new_with_free_func(g_free);
    if (extra && *extra)
        g_ptr_array_add(d, g_strdup(extra));
    const char *const *l = cor_config_list(cli->config, "lmtp", "domains");
    for (size_t i = 0; d->len == 0 && l && l[i]; i++)
        if (*l[i])
            g_ptr_array_add(d, g_strdup(l[i]));
    const char *one = cor_config_string(cli->config, "postfix", "domain");
    if (d->len == 0 && *one)
        g_ptr_array_add(d, g_strdup(one));
    g_ptr_array_add(d, NULL);
    return d;
}

/* Writes the tables into `dir`; 0, or 1 after printing the error. */
static int
write_maps(cor_cli_t *cli, const char *dir, const char *domain, const char *transport)
{
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) domains = list_domains(cli, domain);
    g_autofree char *err = NULL;
    const char *tr = transport ? transport : cor_config_string(cli->config, "postfix", "transport");
    if (cor_postfix_maps_write(st, dir, (const char *const *) domains->pdata, tr, &err) != COR_OK)
        return cli_error("cannot write the Postfix tables in '%s': %s", dir, err);
    return 0;
}

int
cli_postfix_maps_refresh(cor_cli_t *cli)
{
    const char *dir = cor_config_string(cli->config, "postfix", "maps_dir");
    return *dir ? write_maps(cli, dir, NULL, NULL) : 0;
}

int
cmd_postfix_maps(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *domain = NULL, *transport = NULL;
    GOptionEntry entries[] = {
        { "domain", 'd', 0, G_OPTION_ARG_STRING, &domain,
          "the list domain (default: [lmtp] domains, else [postfix] domain)", "DOMAIN" },
        { "transport", 't', 0, G_OPTION_ARG_STRING, &transport,
          "the Postfix transport (default: [postfix] transport)", "TRANSPORT" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("DIR - write Postfix lookup tables for every group");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "Writes DIR/transport, DIR/relay_recipient_maps and DIR/relay_domains\n"
        "(texthash: format; see docs/postfix.md).");
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor postfix-maps [--domain D] [--transport T] DIR");
    if (write_maps(cli, argv[1], domain, transport) != 0)
        return 1;
    printf("wrote %s/transport, relay_recipient_maps, relay_domains\n", argv[1]);
    return 0;
}

int
cmd_exim_config(cor_cli_t *cli, int argc, char **argv)
{
    g_autofree char *socket = NULL, *maps = NULL;
    GOptionEntry entries[] = {
        { "socket", 's', 0, G_OPTION_ARG_STRING, &socket,
          "corridor's LMTP socket (default: the first unix: listener, else STATE/lmtp.sock)", "PATH" },
        { "maps", 'm', 0, G_OPTION_ARG_STRING, &maps,
          "the directory of corridor's address tables (default: [postfix] maps_dir)", "DIR" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- print an Exim router and transport for corridor");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor exim-config [--socket PATH] [--maps DIR]");
    if (!socket) {
        const char *const *l = cor_config_list(cli->config, "lmtp", "listen");
        for (size_t i = 0; !socket && l && l[i]; i++)
            if (g_str_has_prefix(l[i], "unix:"))
                socket = g_strdup(l[i] + 5);
        if (!socket)
            socket = g_build_filename(cli->state_dir, "lmtp.sock", NULL);
    }
    if (!maps) {
        const char *m = cor_config_string(cli->config, "postfix", "maps_dir");
        maps = *m ? g_strdup(m) : g_build_filename(cli->state_dir, "mta", NULL);
    }
    g_autoptr(GPtrArray) domains = list_domains(cli, NULL);
    g_autofree char *domlist = domains->len > 1
        ? g_strjoinv(" : ", (char **) domains->pdata) : g_strdup("lists.example.gov.uk");
    g_autofree char *abs = g_canonicalize_filename(socket, NULL);
    g_autofree char *absmaps = g_canonicalize_filename(maps, NULL);
    printf("# corridor for Exim: the domain list goes in the main section, the router\n"
           "# in 'begin routers' before dnslookup, the transport in 'begin transports'.\n"
           "# The router accepts only addresses in corridor's table, so unknown groups\n"
           "# are refused at RCPT.  Keep the table current: set [postfix] maps_dir = %s\n"
           "# in corridor.conf (or run 'corridor postfix-maps %s' after changes).\n"
           "\n"
           "domainlist corridor_domains = %s\n"
           "\n"
           "# begin routers\n"
           "corridor:\n"
           "  driver = accept\n"
           "  domains = +corridor_domains\n"
           "  local_part_suffix = +*\n"
           "  local_part_suffix_optional\n"
           "  condition = ${lookup{$local_part@$domain}lsearch{%s/relay_recipient_maps}{yes}{no}}\n"
           "  transport = corridor_lmtp\n"
           "\n"
           "# begin transports\n"
           "corridor_lmtp:\n"
           "  driver = lmtp\n"
           "  socket = %s\n"
           "  batch_max = 50\n"
           "  delivery_date_add = false\n"
           "  envelope_to_add = false\n"
           "  return_path_add = false\n",
           absmaps, absmaps, domlist, absmaps, abs);
    return 0;
}
