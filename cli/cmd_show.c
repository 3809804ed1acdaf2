/* cli/cmd_show.c — `corridor show [--raw] MESSAGE-ID`: the decoded message,
 * or the original bytes exactly as stored. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/message.h"

int
cmd_show(cor_cli_t *cli, int argc, char **argv)
{
    gboolean raw = FALSE;
    g_autofree char *as = NULL;
    GOptionEntry entries[] = {
        { "raw", 0, 0, G_OPTION_ARG_NONE, &raw, "The original bytes, unchanged", NULL },
        { "as", 0, 0, G_OPTION_ARG_STRING, &as, "As this member (for a private group)", "ADDRESS" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[--raw] MESSAGE-ID - print a message");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!cli_parse(ctx, &argc, &argv))
        return 2;
    if (argc != 2)
        return cli_error("usage: corridor show [--raw] MESSAGE-ID");
    g_autofree char *id = cli_message_id(argv[1]);
    cor_store_t *st = cli_store(cli, false);
    if (!st)
        return 1;
    g_autoptr(GPtrArray) shown_groups = g_ptr_array_new_with_free_func(g_free);
    int64_t row = cli_visible_message(st, id, NULL, as, shown_groups);
    if (!row)
        return 1;

    g_autoptr(GBytes) bytes = NULL;
    if (cor_store_message_raw(st, row, &bytes) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    gsize len;
    const char *data = g_bytes_get_data(bytes, &len);
    if (raw) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return cli_output_error(errno);
        return 0;
    }
    g_autoptr(cor_stored_message_t) m = NULL;
    if (cor_store_message_get(st, row, &m) != COR_OK)
        return cli_error("%s", cor_store_error(st));
    g_autoptr(cor_message_t) msg = NULL;
    g_autofree char *err = NULL;
    if (cor_message_parse(data, len, m->received, &msg, &err) != COR_OK)
        return cli_error("cannot parse stored message <%s>: %s", id, err);
    g_autofree char *date = cli_iso_date(msg->date);
    g_autoptr(GString) groups_text = g_string_new(NULL);
    for (guint i = 0; i < shown_groups->len; i++)
        g_string_append_printf(groups_text, "%s%s", i ? ", " : "",
                               (char *) g_ptr_array_index(shown_groups, i));
    const char *groups = groups_text->str;
    printf("Message-ID: <%s>\nFrom: %s\n", msg->message_id, msg->from);
    if (*msg->to)
        printf("To: %s\n", msg->to);
    if (*msg->cc)
        printf("Cc: %s\n", msg->cc);
    printf("Subject: %s\nDate: %s\nGroups: %s\n", msg->subject, date, groups);
    for (guint i = 0; i < msg->attachments->len; i++) {
        const cor_attachment_t *a = g_ptr_array_index(msg->attachments, i);
        printf("Attachment: %s (%s, %" G_GUINT64_FORMAT " bytes)\n",
               *a->filename ? a->filename : "(no name)", a->content_type, a->size);
    }
    printf("\n%s", msg->body);
    if (*msg->body && msg->body[strlen(msg->body) - 1] != '\n')
        putchar('\n');
    return 0;
}
