// SPDX-License-Identifier: Apache-2.0
// -u/--user: names and numbers resolved the way the container sees them, from its own
// /etc/passwd and /etc/group, opened confined to the rootfs (symlinks resolve inside it).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define ID_MAX 0xfffffffeU // (uint32_t)-1 means "no change" to the kernel

// Opens rootfs/path with every symlink resolved inside the rootfs; NULL when absent.
static FILE *open_in_root(const char *rootfs, const char *path)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return NULL;
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
	int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static bool parse_id(const char *s, uint32_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > ID_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

// Splits a passwd/group line into at most n ':'-separated fields, in place.
static unsigned split(char *line, char **f, unsigned n)
{
	unsigned i = 0;
	line[strcspn(line, "\n")] = '\0';
	while (i < n) {
		f[i++] = line;
		char *c = strchr(line, ':');
		if (!c)
			break;
		*c = '\0';
		line = c + 1;
	}
	return i;
}

struct pw {
	const char *want; // the name looked for, or NULL to look for `uid`
	char name[256], home[PATH_MAX];
	uint32_t uid, gid;
};

// Calls fn on the fields of every well-formed line of the rootfs's etc/NAME (passwd: 7 fields,
// group: 4) until fn returns true. 0 when fn did, -ENOENT otherwise.
static int each_entry(const char *rootfs, const char *name, unsigned nfields,
		      bool (*fn)(char **fields, void *ctx), void *ctx)
{
	char path[32];
	snprintf(path, sizeof(path), "etc/%s", name);
	FILE *f = open_in_root(rootfs, path);
	if (!f)
		return -ENOENT;
	char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	while (r && getline(&line, &cap, f) > 0) {
		char *fields[7];
		if (split(line, fields, nfields) == nfields && fn(fields, ctx))
			r = 0;
	}
	free(line);
	fclose(f);
	return r;
}

static bool match_passwd(char **fl, void *ctx)
{
	struct pw *pw = ctx;
	uint32_t u, g;
	if (!parse_id(fl[2], &u) || !parse_id(fl[3], &g))
		return false;
	if (pw->want ? strcmp(fl[0], pw->want) != 0 : u != pw->uid)
		return false;
	snprintf(pw->name, sizeof(pw->name), "%s", fl[0]);
	snprintf(pw->home, sizeof(pw->home), "%s", fl[5]);
	pw->uid = u;
	pw->gid = g;
	return true;
}

struct grp_query {
	const char *group; // find this group's gid...
	uint32_t gid;
	const char *member; // ...or add every group listing this user to cfg->groups
	struct vm_config *cfg;
};

static bool match_group(char **fl, void *ctx)
{
	struct grp_query *q = ctx;
	uint32_t g;
	if (!parse_id(fl[2], &g))
		return false;
	if (q->group) {
		q->gid = g;
		return !strcmp(fl[0], q->group);
	}
	for (char *m = strtok(fl[3], ","); m; m = strtok(NULL, ","))
		if (!strcmp(m, q->member) && q->cfg->ngroups < CONFIG_MAX_GROUPS)
			q->cfg->groups[q->cfg->ngroups++] = g;
	return false;
}

int user_resolve(struct vm_config *cfg)
{
	cfg->uid = cfg->gid = 0;
	cfg->ngroups = 0;
	const char *spec = cfg->user ? cfg->user : "0";
	char user[256];
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (ulen == 0 || ulen >= sizeof(user) || (colon && !colon[1]))
		return log_err(0, "--user %s: expected USER[:GROUP], names or numbers", spec);
	memcpy(user, spec, ulen);
	user[ulen] = '\0';

	struct pw pw = {0};
	bool numeric = parse_id(user, &cfg->uid);
	pw.want = numeric ? NULL : user;
	pw.uid = cfg->uid;
	bool found = each_entry(cfg->rootfs, "passwd", 7, match_passwd, &pw) == 0;
	if (!numeric && !found)
		return log_err(0, "--user %s: no such user in the rootfs's /etc/passwd", user);
	if (found) {
		// As initgroups(): the primary group, then every group listing the user.
		cfg->uid = pw.uid;
		cfg->gid = pw.gid;
		cfg->groups[cfg->ngroups++] = pw.gid;
		struct grp_query members = {.member = pw.name, .cfg = cfg};
		each_entry(cfg->rootfs, "group", 4, match_group, &members);
	}
	if (colon && !parse_id(colon + 1, &cfg->gid)) {
		struct grp_query named = {.group = colon + 1};
		if (each_entry(cfg->rootfs, "group", 4, match_group, &named) < 0)
			return log_err(0, "--user %s: no such group in the rootfs's /etc/group", spec);
		cfg->gid = named.gid;
	}

	if (!config_has_env(cfg, "HOME")) {
		char home[PATH_MAX + 8];
		snprintf(home, sizeof(home), "HOME=%s", found && pw.home[0] ? pw.home : "/");
		return config_set_env(cfg, home);
	}
	return 0;
}
