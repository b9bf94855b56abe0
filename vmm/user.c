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
	char name[256], home[PATH_MAX];
	uint32_t uid, gid;
};

// Finds a passwd entry by name (when name) or by uid. 0, or -ENOENT.
static int find_passwd(const char *rootfs, const char *name, uint32_t uid, struct pw *pw)
{
	FILE *f = open_in_root(rootfs, "etc/passwd");
	if (!f)
		return -ENOENT;
	char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		char *fl[7];
		uint32_t u, g;
		if (split(line, fl, 7) < 7 || !parse_id(fl[2], &u) || !parse_id(fl[3], &g))
			continue;
		if (name ? strcmp(fl[0], name) != 0 : u != uid)
			continue;
		snprintf(pw->name, sizeof(pw->name), "%s", fl[0]);
		snprintf(pw->home, sizeof(pw->home), "%s", fl[5]);
		pw->uid = u;
		pw->gid = g;
		r = 0;
		break;
	}
	free(line);
	fclose(f);
	return r;
}

// With `group`: the gid of that group name. With `user`: add the gids of the groups listing
// `user` as a member to cfg->groups.
static int scan_groups(struct vm_config *cfg, const char *group, uint32_t *gid, const char *user)
{
	FILE *f = open_in_root(cfg->rootfs, "etc/group");
	if (!f)
		return -ENOENT;
	char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		char *fl[4];
		uint32_t g;
		if (split(line, fl, 4) < 4 || !parse_id(fl[2], &g))
			continue;
		if (group) {
			if (!strcmp(fl[0], group)) {
				*gid = g;
				r = 0;
				break;
			}
			continue;
		}
		r = 0;
		for (char *m = strtok(fl[3], ","); m; m = strtok(NULL, ","))
			if (!strcmp(m, user) && cfg->ngroups < CONFIG_MAX_GROUPS)
				cfg->groups[cfg->ngroups++] = g;
	}
	free(line);
	fclose(f);
	return r;
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
		return log_err(EINVAL, "--user %s: expected USER[:GROUP], names or numbers", spec);
	memcpy(user, spec, ulen);
	user[ulen] = '\0';

	struct pw pw;
	bool numeric = parse_id(user, &cfg->uid);
	bool found = find_passwd(cfg->rootfs, numeric ? NULL : user, cfg->uid, &pw) == 0;
	if (!numeric && !found)
		return log_err(0, "--user %s: no such user in the rootfs's /etc/passwd", user);
	if (found) {
		// As initgroups(): the primary group, then every group listing the user.
		cfg->uid = pw.uid;
		cfg->gid = pw.gid;
		cfg->groups[cfg->ngroups++] = pw.gid;
		scan_groups(cfg, NULL, NULL, pw.name);
	}
	if (colon && !parse_id(colon + 1, &cfg->gid) &&
	    scan_groups(cfg, colon + 1, &cfg->gid, NULL) < 0)
		return log_err(0, "--user %s: no such group in the rootfs's /etc/group", spec);

	if (!config_has_env(cfg, "HOME")) {
		char home[PATH_MAX + 8];
		snprintf(home, sizeof(home), "HOME=%s", found && pw.home[0] ? pw.home : "/");
		return config_set_env(cfg, home);
	}
	return 0;
}
