/* core/status.c — the status table: name, SMTP reply, enhanced code.
 * The one place that says which reply a status produces (STYLE.md example 3). */
#include "core/status.h"

#include <stddef.h>

static const struct {
    const char *name;
    cor_smtp_reply_t reply;
} table[COR_STATUS_COUNT] = {
    [COR_OK]            = { "ok",                 { 250, "2.0.0", "ok" } },
    [COR_DONE]          = { "done",               { 250, "2.0.0", "ok" } },
    [COR_DUPLICATE]     = { "duplicate",          { 250, "2.0.0", "ok, already stored" } },
    [COR_ERR_NOMEM]     = { "out of memory",      { 452, "4.3.1", "insufficient system resources" } },
    [COR_ERR_IO]        = { "i/o error",          { 451, "4.3.0", "local error in processing" } },
    [COR_ERR_DISK_FULL] = { "disk full",          { 452, "4.3.1", "insufficient system storage" } },
    [COR_ERR_STORE]     = { "store error",        { 451, "4.3.0", "local error in processing" } },
    [COR_ERR_BUSY]      = { "store busy",         { 451, "4.3.0", "store busy, try again later" } },
    [COR_ERR_CORRUPT]   = { "store corrupt",      { 451, "4.3.0", "local error in processing" } },
    [COR_ERR_INDEX]     = { "index error",        { 451, "4.3.0", "local error in processing" } },
    [COR_ERR_NOT_FOUND] = { "not found",          { 550, "5.1.1", "no such mailbox" } },
    [COR_ERR_EXISTS]    = { "already exists",     { 550, "5.0.0", "already exists" } },
    [COR_ERR_NO_GROUP]  = { "no such group",      { 550, "5.1.1", "no such group here" } },
    [COR_ERR_INVALID]   = { "invalid argument",   { 501, "5.5.4", "syntax error in parameters" } },
    [COR_ERR_CONFIG]    = { "configuration error",{ 451, "4.3.5", "system incorrectly configured" } },
    [COR_ERR_QUERY]     = { "malformed query",    { 501, "5.5.4", "malformed query" } },
    [COR_ERR_PARSE]     = { "malformed message",  { 554, "5.6.0", "malformed message content" } },
    [COR_ERR_FORMAT]    = { "unrecognised format",{ 554, "5.6.0", "unrecognised message format" } },
    [COR_ERR_TRUNCATED] = { "truncated input",    { 451, "4.3.0", "message truncated, try again" } },
    [COR_ERR_TOO_BIG]   = { "too big",            { 552, "5.3.4", "message too big for system" } },
    [COR_ERR_LIMIT]     = { "limit reached",      { 452, "4.5.3", "too many recipients" } },
    [COR_ERR_TIMEOUT]   = { "timeout",            { 421, "4.4.2", "timeout, closing connection" } },
    [COR_ERR_PROTOCOL]  = { "protocol error",     { 500, "5.5.2", "syntax error, command unrecognised" } },
    [COR_ERR_DENIED]    = { "permission denied",  { 550, "5.7.1", "delivery not authorised" } },
    [COR_ERR_UNSUPPORTED]={ "unsupported",        { 504, "5.5.4", "command parameter not implemented" } },
    [COR_ERR_SEQUENCE]  = { "bad sequence",       { 503, "5.5.1", "bad sequence of commands" } },
    [COR_ERR_PARAMETER] = { "unknown parameter",  { 555, "5.5.4", "parameter not recognised" } },
    [COR_ERR_LINE_TOO_LONG]={ "line too long",    { 500, "5.5.2", "line too long" } },
    [COR_ERR_NOT_IMPLEMENTED]={ "not implemented",{ 502, "5.5.1", "command not implemented" } },
    [COR_ERR_BAD_DOMAIN]= { "not a list domain",  { 550, "5.1.2", "not a list domain here" } },
    [COR_ERR_OVERLOADED]= { "too many sessions",  { 421, "4.3.2", "too many sessions, try again later" } },
    [COR_ERR_SHUTDOWN]  = { "shutting down",      { 421, "4.3.2", "service shutting down, try again later" } },
    [COR_ERR_TOO_MANY_ERRORS]={ "too many errors",{ 421, "4.7.0", "too many errors, closing connection" } },
    [COR_ERR_MARKING]   = { "protectively marked", { 550, "5.7.1", "protectively marked mail is not accepted here" } },
    [COR_ERR_NOT_ALLOWED]={ "not allowed to post",{ 550, "5.7.1", "sender not allowed to post to this group" } },
    [COR_ERR_CONTENT_TYPE]={ "attachment type refused", { 550, "5.7.1", "attachment type not accepted" } },
    [COR_ERR_SPAM]      = { "spam",               { 550, "5.7.1", "message classified as spam" } },
    [COR_ERR_GROUP_SIZE]= { "too big for the group", { 552, "5.2.3", "message length exceeds the group's limit" } },
    [COR_ERR_HELD]      = { "under legal hold",   { 550, "5.7.1", "the record is under legal hold" } },
    [COR_ERR_INTERNAL]  = { "internal error",     { 451, "4.3.0", "local error in processing" } },
};

const char *
cor_status_to_string(cor_status_t status)
{
    if ((unsigned) status >= COR_STATUS_COUNT || table[status].name == NULL)
        return "unknown status";
    return table[status].name;
}

const cor_smtp_reply_t *
cor_status_smtp(cor_status_t status)
{
    if ((unsigned) status >= COR_STATUS_COUNT || table[status].name == NULL)
        return &table[COR_ERR_INTERNAL].reply;
    return &table[status].reply;
}
