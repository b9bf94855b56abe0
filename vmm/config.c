// SPDX-License-Identifier: Apache-2.0
// struct vm_config's own rules, whoever fills it (cli.c from argv, rkt/pod.c from a pod
// manifest): defaults, the environment, the workload's user, and the checks against the host.
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "net/net.h"
#include "util.h"

#ifndef CLEARVM_DATADIR
#define CLEARVM_DATADIR "/usr/local/share/clearvm"
#endif

int config_parse_fs(const char *name, enum vm_fs *fs)
{
	if (!strcmp(name, "9p"))
		*fs = FS_9P;
	else if (!strcmp(name, "virtiofs"))
		*fs = FS_VIRTIOFS;
	else
		return -EINVAL;
	return 0;
}

void config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_mib = CONFIG_DEFAULT_MEMORY_MIB;
	cfg->cpus = 1;
	cfg->workdir = "/";
	cfg->hostname = "clearvm";
	cfg->stop_timeout_s = CONFIG_DEFAULT_STOP_TIMEOUT;
	cfg->network = NETWORK_PASST;
	cfg->fs = FS_VIRTIOFS;
	cfg->kernel = getenv("CLEARVM_KERNEL") ? getenv("CLEARVM_KERNEL") : CLEARVM_DATADIR "/vmlinux";
	cfg->initramfs = getenv("CLEARVM_INITRAMFS") ? getenv("CLEARVM_INITRAMFS")
						      : CLEARVM_DATADIR "/initramfs.cpio";
	const char *tdir = getenv("CLEARVM_TEMPLATE_DIR");
	cfg->template_dir = tdir && tdir[0] ? tdir : NULL;
}

int config_set_env(struct vm_config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return log_err(0, "environment %s: expected KEY=VALUE", kv);
	size_t klen = (size_t)(eq - kv);
	for (size_t i = 0; i < cfg->nenv; i++) { // a later -e replaces an earlier one
		if (!strncmp(cfg->env[i], kv, klen + 1)) {
			char *dup = strdup(kv);
			if (!dup)
				return -ENOMEM;
			free(cfg->env[i]);
			cfg->env[i] = dup;
			return 0;
		}
	}
	char **env = realloc(cfg->env, (cfg->nenv + 2) * sizeof(*env));
	if (!env)
		return -ENOMEM;
	cfg->env = env;
	if (!(env[cfg->nenv] = strdup(kv)))
		return -ENOMEM;
	env[++cfg->nenv] = NULL;
	return 0;
}

bool config_has_env(const struct vm_config *cfg, const char *key)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i < cfg->nenv; i++)
		if (!strncmp(cfg->env[i], key, klen) && cfg->env[i][klen] == '=')
			return true;
	return false;
}

int config_resolve_workload(struct vm_config *cfg)
{
	int r;
	if (!config_has_env(cfg, "PATH") &&
	    (r = config_set_env(cfg, "PATH=" CONFIG_DEFAULT_PATH)) < 0)
		return r;
	return user_resolve(cfg);
}

static uint64_t host_memory_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size >> 20 : UINT64_MAX;
}

static int check_file(const char *what, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return log_err(errno, "%s %s", what, path);
	if (!S_ISREG(st.st_mode))
		return log_err(0, "%s %s: not a regular file", what, path);
	return 0;
}

int config_check(struct vm_config *cfg)
{
	struct stat st;
	if (stat(cfg->rootfs, &st) < 0)
		return log_err(errno, "rootfs %s", cfg->rootfs);
	if (!S_ISDIR(st.st_mode))
		return log_err(ENOTDIR, "rootfs %s", cfg->rootfs);
	if (cfg->memory_mib > host_memory_mib())
		return log_err(ENOMEM,
			       "--memory %" PRIu64 ": more than the host has (%" PRIu64 " MiB)",
			       cfg->memory_mib, host_memory_mib());
	int r;
	if ((r = check_file("kernel", cfg->kernel)) < 0 ||
	    (r = check_file("initramfs", cfg->initramfs)) < 0 || (r = tty_check(cfg)) < 0 ||
	    (r = net_resolve(cfg)) < 0)
		return r;
	return config_resolve_workload(cfg);
}

void config_free(struct vm_config *cfg)
{
	for (size_t i = 0; i < cfg->nenv; i++)
		free(cfg->env[i]);
	free(cfg->env);
	cfg->env = NULL;
	cfg->nenv = 0;
	free(cfg->resolv_conf_owned);
	free(cfg->hosts_owned);
	cfg->resolv_conf_owned = cfg->hosts_owned = NULL;
}
