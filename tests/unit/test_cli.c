// SPDX-License-Identifier: Apache-2.0
// Command line parsing: good input fills vm_config; bad input is refused before any VM work.
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/config.h"

static char dir[] = "/tmp/clearvm-cli-XXXXXX";
static char file[300];

static int parse(struct vm_config *cfg, int argc, const char **argv)
{
	optind = 0; // getopt_long state is global: start over
	config_free(cfg);
	return cli_parse(argc, (char **)argv, cfg);
}

#define PARSE(cfg, ...)                                                                        \
	({                                                                                     \
		const char *a_[] = {"clearvm", __VA_ARGS__, NULL};                             \
		parse(cfg, (int)(sizeof(a_) / sizeof(a_[0])) - 1, a_);                         \
	})

static bool env_has(const struct vm_config *cfg, const char *kv)
{
	for (size_t i = 0; i < cfg->nenv; i++)
		if (!strcmp(cfg->env[i], kv))
			return true;
	return false;
}

int main(void)
{
	mkdtemp(dir);
	snprintf(file, sizeof(file), "%s/vmlinux", dir);
	fclose(fopen(file, "w"));
	setenv("CLEARVM_KERNEL", file, 1);
	setenv("CLEARVM_INITRAMFS", file, 1);
	struct vm_config cfg = {0};

	is(PARSE(&cfg, "--rootfs", dir, "--", "/bin/sh", "-c", "exit 3"), 0, "a plain run parses");
	ok(cfg.argv && !strcmp(cfg.argv[0], "/bin/sh") && !strcmp(cfg.argv[2], "exit 3") && !cfg.argv[3],
	   "the command and its arguments, untouched");
	ok(cfg.memory_mib == 256 && cfg.cpus == 1 && !strcmp(cfg.workdir, "/"), "defaults: 256 MiB, 1 vCPU, /");
	ok(env_has(&cfg, "PATH=" CONFIG_DEFAULT_PATH) && env_has(&cfg, "HOME=/root"), "default PATH and HOME");

	is(PARSE(&cfg, "-r", dir, "-m", "512", "-c", "4", "-w", "/srv", "-e", "A=1", "-e", "A=2", "-e",
		 "PATH=/x", "--timeout", "9", "--", "ls", "-l"),
	   0, "every option at once");
	ok(cfg.memory_mib == 512 && cfg.cpus == 4 && cfg.timeout_s == 9 && !strcmp(cfg.workdir, "/srv"),
	   "memory, cpus, timeout, workdir");
	ok(env_has(&cfg, "A=2") && !env_has(&cfg, "A=1"), "a later -e replaces an earlier one");
	ok(env_has(&cfg, "PATH=/x") && !env_has(&cfg, "PATH=" CONFIG_DEFAULT_PATH), "-e PATH wins over the default");
	ok(!strcmp(cfg.argv[0], "ls") && !strcmp(cfg.argv[1], "-l"), "options after the command belong to it");

	is(PARSE(&cfg, "--rootfs", dir, "--", "/bin/true"), 0, "baseline");
	ok(PARSE(&cfg, "--rootfs", dir) < 0, "no command");
	ok(PARSE(&cfg, "--", "/bin/true") < 0, "no --rootfs");
	ok(PARSE(&cfg, "--rootfs", "/nonexistent/x", "--", "true") < 0, "a missing rootfs");
	ok(PARSE(&cfg, "--rootfs", file, "--", "true") < 0, "a rootfs that is a file");
	ok(PARSE(&cfg, "--rootfs", dir, "-m", "abc", "--", "true") < 0, "memory not a number");
	ok(PARSE(&cfg, "--rootfs", dir, "-m", "-5", "--", "true") < 0, "negative memory");
	ok(PARSE(&cfg, "--rootfs", dir, "-m", "16", "--", "true") < 0, "memory below the minimum");
	ok(PARSE(&cfg, "--rootfs", dir, "-m", "100000", "--", "true") < 0, "memory above what the layout holds");
	ok(PARSE(&cfg, "--rootfs", dir, "-c", "0", "--", "true") < 0, "zero vCPUs");
	ok(PARSE(&cfg, "--rootfs", dir, "-c", "65", "--", "true") < 0, "too many vCPUs");
	ok(PARSE(&cfg, "--rootfs", dir, "-e", "NOEQUALS", "--", "true") < 0, "-e without =");
	ok(PARSE(&cfg, "--rootfs", dir, "-e", "=v", "--", "true") < 0, "-e with an empty name");
	ok(PARSE(&cfg, "--rootfs", dir, "-w", "relative", "--", "true") < 0, "a relative --workdir");
	ok(PARSE(&cfg, "--rootfs", dir, "--bogus", "--", "true") < 0, "an unknown option");
	ok(PARSE(&cfg, "--rootfs", dir, "--kernel", "/nonexistent", "--", "true") < 0, "a missing kernel");
	ok(PARSE(&cfg, "--rootfs", dir, "--kernel", dir, "--", "true") < 0, "a kernel that is a directory");
	is(PARSE(&cfg, "--help"), 1, "--help is handled (exit 0)");
	config_free(&cfg);

	unlink(file);
	rmdir(dir);
	return tap_done();
}
