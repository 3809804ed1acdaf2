/* core/privilege.c — the daemon's identity, dropping root, safe files.
 * Design notes: privilege.h. */
#include "core/privilege.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void
cor_priv_free(cor_priv_t *p)
{
    if (!p)
        return;
    g_free(p->user);
    g_free(p->group);
    if (p->trusted)
        g_array_unref(p->trusted);
    g_free(p);
}

static char *
user_name(uid_t uid)
{
    struct passwd *pw = getpwuid(uid);
    return pw && pw->pw_name ? g_strdup(pw->pw_name) : g_strdup_printf("uid-%ld", (long) uid);
}

static char *
group_name(gid_t gid)
{
    struct group *gr = getgrgid(gid);
    return gr && gr->gr_name ? g_strdup(gr->gr_name) : g_strdup_printf("gid-%ld", (long) gid);
}

/* [daemon] group (or user's primary group) by name. */
static bool
lookup_group(const char *name, gid_t *gid)
{
    struct group *gr = getgrnam(name);
    if (!gr)
        return false;
    *gid = gr->gr_gid;
    return true;
}

cor_status_t
cor_priv_plan(const cor_config_t *cfg, bool allow_root, cor_priv_t **out, char **err)
{
    *out = NULL;
    *err = NULL;
    g_autofree char *user = g_strstrip(g_strdup(cor_config_string(cfg, "daemon", "user")));
    g_autofree char *group = g_strstrip(g_strdup(cor_config_string(cfg, "daemon", "group")));
    g_autoptr(cor_priv_t) p = g_new0(cor_priv_t, 1);
    p->trusted = g_array_new(FALSE, FALSE, sizeof(gid_t));
    for (const char *const *t = cor_config_list(cfg, "daemon", "trusted_groups"); t && *t; t++) {
        gid_t g;
        if (!lookup_group(*t, &g)) {
            *err = g_strdup_printf("[daemon] trusted_groups: there is no group '%s'", *t);
            return COR_ERR_CONFIG;
        }
        g_array_append_val(p->trusted, g);
    }
    uid_t euid = geteuid();
    if (*user) {
        struct passwd *pw = getpwnam(user);
        if (!pw) {
            *err = g_strdup_printf("[daemon] user: there is no user '%s' (create it: "
                                   "adduser --system --group %s)", user, user);
            return COR_ERR_CONFIG;
        }
        p->uid = pw->pw_uid;
        p->gid = pw->pw_gid;
        p->user = g_strdup(pw->pw_name);
    } else if (group[0] && euid == 0 && !allow_root) {
        *err = g_strdup("[daemon] group is set but [daemon] user is not: set both");
        return COR_ERR_CONFIG;
    } else {
        p->uid = euid;
        p->gid = getegid();
        p->user = user_name(euid);
    }
    if (*group && !lookup_group(group, &p->gid)) {
        *err = g_strdup_printf("[daemon] group: there is no group '%s'", group);
        return COR_ERR_CONFIG;
    }
    p->group = group_name(p->gid);

    if (euid == 0) {
        if (!*user && !allow_root) {
            *err = g_strdup("refusing to run as root: set [daemon] user (e.g. 'corridor') to "
                            "the user to switch to once the listeners are bound, or start "
                            "corridor as that user (systemd: User=); [daemon] user = root or "
                            "CORRIDOR_ALLOW_ROOT=1 runs it as root anyway");
            return COR_ERR_CONFIG;
        }
        p->drop = p->uid != 0 || p->gid != 0;
    } else if (p->uid != euid || (*group && p->gid != getegid())) {
        g_autofree char *me = user_name(euid);
        g_autofree char *mygroup = group_name(getegid());
        *err = g_strdup_printf("[daemon] user and group are '%s:%s' but corridor runs as "
                               "'%s:%s' and cannot switch (only root can): start it as root "
                               "or as '%s'", p->user, p->group, me, mygroup, p->user);
        return COR_ERR_CONFIG;
    }
    *out = g_steal_pointer(&p);
    return COR_OK;
}

/* ---- dropping ---- */

/* "Uid:\tR\tE\tS\tFS" of one /proc status file: all four equal `want`. */
static bool
ids_are(const char *status, const char *field, unsigned long want)
{
    const char *line = strstr(status, field);
    if (!line)
        return false;
    unsigned long v[4];
    if (sscanf(line + strlen(field), "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4)
        return false;
    return v[0] == want && v[1] == want && v[2] == want && v[3] == want;
}

/* Every thread's real, effective, saved and file-system ids. */
static bool
all_threads_are(uid_t uid, gid_t gid, char **err)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/task", 0, NULL);
    if (!d) {
        *err = g_strdup("cannot read /proc/self/task to check every thread's ids");
        return false;
    }
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_strdup_printf("/proc/self/task/%s/status", name);
        g_autofree char *text = NULL;
        if (!g_file_get_contents(path, &text, NULL, NULL))
            continue;   /* the thread has ended */
        if (!ids_are(text, "\nUid:", uid) || !ids_are(text, "\nGid:", gid)) {
            *err = g_strdup_printf("thread %s still has other ids than %ld:%ld", name,
                                   (long) uid, (long) gid);
            return false;
        }
    }
    return true;
}

static bool
no_capabilities(void)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0)
        return false;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
        if (d[i].effective || d[i].permitted || d[i].inheritable)
            return false;
    return true;
}

cor_status_t
cor_priv_drop(const cor_priv_t *p, char **err)
{
    *err = NULL;
    if (!p->drop)
        return COR_OK;
    const char *step = NULL;
    /* 1. the group list, 2. the group, 3. the user: each of the first two
     * needs root, which the third gives up */
    if (setgroups(1, &p->gid) != 0)
        step = "setgroups";
    else if (setresgid(p->gid, p->gid, p->gid) != 0)
        step = "setresgid";
    else if (setresuid(p->uid, p->uid, p->uid) != 0)
        step = "setresuid";
    if (step) {
        *err = g_strdup_printf("cannot switch to user '%s' and group '%s': %s: %s", p->user,
                               p->group, step, g_strerror(errno));
        return COR_ERR_DENIED;
    }
    /* 4. verify: the ids, the group list, the capabilities, no way back */
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    gid_t groups[2];
    int n = getgroups(2, groups);
    g_autofree char *why = NULL;
    if (getresuid(&ru, &eu, &su) != 0 || ru != p->uid || eu != p->uid || su != p->uid)
        why = g_strdup("the user ids did not all change");
    else if (getresgid(&rg, &eg, &sg) != 0 || rg != p->gid || eg != p->gid || sg != p->gid)
        why = g_strdup("the group ids did not all change");
    else if (n != 1 || groups[0] != p->gid)
        why = g_strdup("supplementary groups are left");
    else if (!all_threads_are(p->uid, p->gid, &why))
        ;
    else if (p->uid != 0 && !no_capabilities())
        why = g_strdup("capabilities are left");
    else if (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        why = g_strdup("it could become root again");
    else if (p->uid != 0 && p->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
        why = g_strdup("it could take group 0 again");
    else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        why = g_strdup_printf("cannot set no_new_privs: %s", g_strerror(errno));
    if (why) {
        *err = g_strdup_printf("switched to user '%s' and group '%s', but %s", p->user,
                               p->group, why);
        return COR_ERR_DENIED;
    }
    return COR_OK;
}

/* ---- safe files ---- */

static bool
trusted_gid(const cor_priv_t *p, gid_t g)
{
    if (g == p->gid)
        return true;
    for (guint i = 0; p->trusted && i < p->trusted->len; i++)
        if (g_array_index(p->trusted, gid_t, i) == g)
            return true;
    return false;
}

cor_status_t
cor_priv_check_path(const cor_priv_t *p, const char *path, const char *what,
                    cor_priv_kind_t kind, char **err)
{
    *err = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return COR_OK;
        *err = g_strdup_printf("cannot look at %s '%s': %s", what, path, g_strerror(errno));
        return COR_ERR_IO;
    }
    unsigned mode = (unsigned) (st.st_mode & 07777);
    if (kind == COR_PRIV_FILE && !S_ISREG(st.st_mode)) {
        *err = g_strdup_printf("%s '%s' is not a regular file", what, path);
        return COR_ERR_DENIED;
    }
    if (kind != COR_PRIV_FILE && !S_ISDIR(st.st_mode)) {
        *err = g_strdup_printf("%s '%s' is not a directory", what, path);
        return COR_ERR_DENIED;
    }
    if ((st.st_mode & S_IWOTH) && !(kind == COR_PRIV_PARENT && (st.st_mode & S_ISVTX))) {
        *err = g_strdup_printf("%s '%s' is writable by everyone (mode %04o): chmod o-w '%s'",
                               what, path, mode, path);
        return COR_ERR_DENIED;
    }
    if ((st.st_mode & S_IWGRP) && !(st.st_mode & S_IWOTH) && !trusted_gid(p, st.st_gid)) {
        g_autofree char *g = group_name(st.st_gid);
        *err = g_strdup_printf("%s '%s' is writable by group '%s' (mode %04o), which is not "
                               "corridor's group '%s' nor in [daemon] trusted_groups: chmod g-w "
                               "'%s', or add the group to trusted_groups", what, path, g, mode,
                               p->group, path);
        return COR_ERR_DENIED;
    }
    if (st.st_uid != 0 && st.st_uid != p->uid) {
        g_autofree char *u = user_name(st.st_uid);
        *err = g_strdup_printf("%s '%s' belongs to user '%s' (mode %04o), not to root or "
                               "corridor's user '%s'", what, path, u, mode, p->user);
        return COR_ERR_DENIED;
    }
    return COR_OK;
}

cor_status_t
cor_priv_check_writable(const cor_priv_t *p, const char *path, const char *what, char **err)
{
    *err = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return COR_OK;
        *err = g_strdup_printf("cannot look at %s '%s': %s", what, path, g_strerror(errno));
        return COR_ERR_IO;
    }
    if (p->uid == 0)
        return COR_OK;
    bool dir = S_ISDIR(st.st_mode);
    mode_t need;
    if (st.st_uid == p->uid)
        need = S_IRUSR | S_IWUSR | (dir ? S_IXUSR : 0);
    else if (st.st_gid == p->gid)
        need = S_IRGRP | S_IWGRP | (dir ? S_IXGRP : 0);
    else
        need = S_IROTH | S_IWOTH | (dir ? S_IXOTH : 0);
    if ((st.st_mode & need) == need)
        return COR_OK;
    g_autofree char *u = user_name(st.st_uid);
    g_autofree char *g = group_name(st.st_gid);
    *err = g_strdup_printf("%s '%s' belongs to %s:%s (mode %04o) and corridor's user '%s' "
                           "cannot %s it: chown -R %s:%s '%s'", what, path, u, g,
                           (unsigned) (st.st_mode & 07777), p->user,
                           dir ? "write in" : "write", p->user, p->group, path);
    return COR_ERR_DENIED;
}

static char *
find_foreign(const cor_priv_t *p, const char *path, const char *except, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return NULL;
    if (st.st_uid != p->uid && g_strcmp0(path, except) != 0)
        return g_strdup(path);
    if (!S_ISDIR(st.st_mode) || depth > 32)
        return NULL;
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        char *found = find_foreign(p, child, except, depth + 1);
        if (found)
            return found;
    }
    return NULL;
}

char *
cor_priv_find_foreign(const cor_priv_t *p, const char *dir, const char *except)
{
    return find_foreign(p, dir, except, 0);
}
