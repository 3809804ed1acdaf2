/* core/privilege.h — who `corridor serve` runs as, dropping root, and
 * whether the files it trusts are safe.
 *
 * Design notes
 * ------------
 * 1. Who.  cor_priv_plan decides the daemon's identity from [daemon] user
 *    and [daemon] group and the identity the process was started with:
 *
 *      started as   [daemon] user    result
 *      root         a user           bind as root, then drop to that user
 *      root         root             stay root (written on purpose)
 *      root         (empty)          refused, unless the caller allows root
 *                                    (corridor serve: CORRIDOR_ALLOW_ROOT=1)
 *      a user U     U or empty       stay U
 *      a user U     another user     refused: only root can switch users
 *
 *    The group is [daemon] group, else the user's primary group.
 *
 * 2. Dropping (cor_priv_drop), in a fixed, checked order, as OpenSMTPD and
 *    Postfix do: setgroups to exactly the one group (no supplementary group
 *    of root's survives), setresgid (while still root: a non-root process
 *    cannot change its group), setresuid last.  Then it verifies, and fails
 *    if anything is off: the real, effective and saved ids of every thread
 *    (/proc/self/task) are the target's, the group list is that one group,
 *    no capability is left in the effective, permitted or inheritable sets,
 *    and setuid(0) / setgid(0) fail.  no_new_privs is set, so nothing the
 *    process could ever exec gains privileges either.  Call it before any
 *    thread is started and before anything is written: every file made
 *    afterwards belongs to the user.
 *
 * 3. Safe files (cor_priv_check_path).  A path corridor trusts (the state
 *    directory, the store, the configuration file and the directory that
 *    holds it) is refused, with its path and mode in the message, when:
 *      - it is writable by everyone (o+w).  Only the directory holding the
 *        configuration file may be world-writable, and only with the sticky
 *        bit (/tmp): there nobody can replace a file they do not own;
 *      - it is writable by its group and that group is neither the daemon's
 *        group nor one of [daemon] trusted_groups (a records group,
 *        docs/records.md);
 *      - it belongs to someone other than root or the daemon's user.
 *    A path that does not exist is not refused here (the caller decides).
 *
 * Nothing here exits; every function returns a status and *err (transfer
 * full) says what was wrong, naming the path or the setting.
 */
#ifndef COR_PRIVILEGE_H
#define COR_PRIVILEGE_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/config.h"
#include "core/status.h"

typedef struct cor_priv {
    char *user;          /* the daemon's user name ("uid-N" when it has none) */
    char *group;         /* its group's name ("gid-N" when it has none) */
    uid_t uid;
    gid_t gid;
    bool drop;           /* running as root now: cor_priv_drop switches to uid/gid */
    GArray *trusted;     /* gid_t: [daemon] trusted_groups, resolved */
} cor_priv_t;

/* Design note 1: the identity for `cfg` ([daemon] user, group,
 * trusted_groups; transfer none) and this process.  `allow_root`: started as
 * root without [daemon] user, stay root instead of refusing.  COR_ERR_CONFIG
 * for an unknown user or group or a refused start, with *err saying what to
 * do.  *out transfer full (cor_priv_free). */
cor_status_t cor_priv_plan(const cor_config_t *cfg, bool allow_root, cor_priv_t **out,
                           char **err);

void cor_priv_free(cor_priv_t *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_priv_t, cor_priv_free)

/* Design note 2: becomes p->uid / p->gid for good.  COR_ERR_DENIED when a
 * step or a check fails (the process must then exit: it may be half
 * dropped).  Nothing to do, COR_OK, when !p->drop. */
cor_status_t cor_priv_drop(const cor_priv_t *p, char **err);

/* What a checked path must be. */
typedef enum cor_priv_kind {
    COR_PRIV_DIR,        /* a directory (the state directory) */
    COR_PRIV_FILE,       /* a regular file (the store, the configuration) */
    COR_PRIV_PARENT,     /* the directory holding a trusted file (sticky o+w allowed) */
} cor_priv_kind_t;

/* Design note 3 for `path`, described in messages as `what` ("the state
 * directory").  COR_OK when safe or absent; COR_ERR_DENIED with *err, e.g.
 * "the state directory '/var/lib/corridor' is writable by everyone (mode
 * 0777): chmod o-w '/var/lib/corridor'"; COR_ERR_IO when it cannot be
 * looked at. */
cor_status_t cor_priv_check_path(const cor_priv_t *p, const char *path, const char *what,
                                 cor_priv_kind_t kind, char **err);

/* Whether p's user and group (no supplementary groups: design note 2) may
 * read and write `path` (and search it, for a directory), judged from its
 * owner and mode, as root before dropping.  COR_ERR_DENIED with *err naming
 * the path, its owner, its mode and the chown to run; COR_OK when absent. */
cor_status_t cor_priv_check_writable(const cor_priv_t *p, const char *path, const char *what,
                                     char **err);

/* The first file under directory `dir` (`dir` included; symbolic links
 * not followed) that does not belong to p's user, other than the path
 * `except` (may be NULL), or NULL.  For a daemon about to drop root: files a
 * command run as root left behind (archive pages, index shards) that the
 * user will fail to rewrite.  Transfer full. */
char *cor_priv_find_foreign(const cor_priv_t *p, const char *dir, const char *except);

#endif
