/* cli/cmd_status.c — `corridor status`: is the daemon running, what is
 * stored, and how far behind is the index. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli/cli.h"

/* The pid of the `corridor serve` holding STATE/serve.pid, or 0. */
static int
daemon_pid(cor_cli_t *cli)
{
    g_autofree char *path = g_build_filename(cli->state_dir, "serve.pid", NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int pid = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        pid = atoi(buf);
        if (pid <= 0)
            pid = -1;
    }
    close(fd);
    return pid;
}

int
cmd_status(cor_cli_t *cli, int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "one JSON object", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the daemon, the store and the index backlog");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 1)
        return cli_error("usage: corridor status [--json]");
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) groups = NULL;
    int64_t messages = 0, backlog = 0, control = 0;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s == COR_OK)
        s = cor_store_message_count(st, &messages);
    if (s == COR_OK)
        s = cor_store_work_count(st, "index", &backlog);
    if (s == COR_OK)
        s = cor_store_control_count(st, "new", &control);
    if (s != COR_OK)
        return cli_error("cannot read the store: %s", cor_store_error(st));
    int pid = daemon_pid(cli);
    g_autofree char *store_path = cli_store_path(cli);

    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b, cli->state_dir);
        json_builder_set_member_name(b, "store");
        json_builder_add_string_value(b, store_path);
        json_builder_set_member_name(b, "daemon_running");
        json_builder_add_boolean_value(b, pid != 0);
        json_builder_set_member_name(b, "daemon_pid");
        json_builder_add_int_value(b, pid > 0 ? pid : 0);
        json_builder_set_member_name(b, "groups");
        json_builder_add_int_value(b, groups->len);
        json_builder_set_member_name(b, "messages");
        json_builder_add_int_value(b, messages);
        json_builder_set_member_name(b, "index_backlog");
        json_builder_add_int_value(b, backlog);
        json_builder_set_member_name(b, "control_mail_waiting");
        json_builder_add_int_value(b, control);
        json_builder_end_object(b);
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        cli_print_json(root);
        return 0;
    }
    printf("state:          %s\n", cli->state_dir);
    printf("store:          %s\n", store_path);
    if (pid > 0)
        printf("daemon:         running (pid %d)\n", pid);
    else
        printf("daemon:         %s\n", pid < 0 ? "running" : "not running");
    printf("groups:         %u\n", groups->len);
    printf("messages:       %" G_GINT64_FORMAT "\n", messages);
    printf("index backlog:  %" G_GINT64_FORMAT " message%s waiting to be indexed\n", backlog,
           backlog == 1 ? "" : "s");
    printf("control mail:   %" G_GINT64_FORMAT " waiting (-request, -owner, -bounces)\n", control);
    return 0;
}
