// SPDX-License-Identifier: Apache-2.0
// Command line parsing: good input fills vm_config; bad input is refused before any VM work.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness/tap.h"
#include "../../vmm/config.h"

static char dir[] = "/tmp/clearvm-cli-XXXXXX";
static char file[300];

// cfg->argv points into the argv it parsed: keep a copy that outlives each PARSE.
static const char *saved_argv[64];

// Every parse asks for --network none first (a later --network wins): the default network
// copies the host's default route, which a test host need not have (net_resolve is tested in
// test_net.c and in the VM tests).
static int parse(struct vm_config *cfg, const char **argv)
{
	int argc = 0;
	saved_argv[argc++] = argv[0];
	saved_argv[argc++] = "--network";
	saved_argv[argc++] = "none";
	for (int i = 1; argv[i] && argc < 63; i++)
		saved_argv[argc++] = argv[i];
	saved_argv[argc] = NULL;
	optind = 0; // getopt_long state is global: start over
	config_free(cfg);
	return cli_parse(argc, (char **)saved_argv, cfg);
}

#define PARSE(cfg, ...) parse(cfg, (const char *[]){"clearvm", __VA_ARGS__, NULL})

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
	ok(env_has(&cfg, "PATH=" CONFIG_DEFAULT_PATH), "default PATH");
	ok(env_has(&cfg, "HOME=/"), "HOME=/ when the rootfs has no passwd entry");
	ok(cfg.uid == 0 && cfg.gid == 0 && !strcmp(cfg.hostname, "clearvm"), "root, hostname clearvm");

	is(PARSE(&cfg, "-r", dir, "-m", "512", "-c", "4", "-w", "/srv", "-e", "A=1", "-e", "A=2", "-e",
		 "PATH=/x", "--timeout", "9", "--", "ls", "-l"),
	   0, "every option at once");
	ok(cfg.memory_mib == 512 && cfg.cpus == 4 && cfg.timeout_s == 9 && !strcmp(cfg.workdir, "/srv"),
	   "memory, cpus, timeout, workdir");
	ok(env_has(&cfg, "A=2") && !env_has(&cfg, "A=1"), "a later -e replaces an earlier one");
	ok(env_has(&cfg, "PATH=/x") && !env_has(&cfg, "PATH=" CONFIG_DEFAULT_PATH), "-e PATH wins over the default");
	ok(!strcmp(cfg.argv[0], "ls") && !strcmp(cfg.argv[1], "-l"), "options after the command belong to it");

	is(PARSE(&cfg, "--rootfs", dir, "--", "/bin/true"), 0, "baseline");
	ok(cfg.network == NETWORK_NONE && !cfg.resolv_conf && !cfg.hosts, "--network none: no card, the rootfs's own names");
	ok(PARSE(&cfg, "-p", "8080:80", "--rootfs", dir, "--", "/bin/true") < 0, "-p without a network is refused");
	ok(PARSE(&cfg, "--dns", "192.0.2.53", "--rootfs", dir, "--", "/bin/true") < 0, "--dns without a network is refused");
	ok(PARSE(&cfg, "--network", "bridge", "--rootfs", dir, "--", "/bin/true") < 0, "--network bridge is refused");
	is(PARSE(&cfg, "--network", "none", "--volume-fs", "virtiofs", "--rootfs", dir, "--", "/bin/true"), 0,
	   "--volume-fs virtiofs");
	ok(cfg.volume_fs == FS_VIRTIOFS && cfg.fs == FS_VIRTIOFS, "the volumes over virtio-fs");
	ok(PARSE(&cfg, "--volume-fs", "nfs", "--rootfs", dir, "--", "/bin/true") < 0, "--volume-fs nfs is refused");
	ok(PARSE(&cfg, "--ip", "10.0.0.2/24", "--rootfs", dir, "--", "/bin/true") < 0, "--ip without a tap is refused");
	ok(PARSE(&cfg, "--gateway", "10.0.0.1", "--rootfs", dir, "--", "/bin/true") < 0, "--gateway without a tap is refused");
	ok(PARSE(&cfg, "--vhost-net", "on", "--rootfs", dir, "--", "/bin/true") < 0, "--vhost-net without a tap is refused");
	ok(PARSE(&cfg, "--network", "tap:cvtap0", "-p", "80:80", "--rootfs", dir, "--", "/bin/true") < 0,
	   "-p with a tap is refused");
	ok(PARSE(&cfg, "--network", "tap:no-such-tap0", "--rootfs", dir, "--", "/bin/true") < 0,
	   "a tap that does not exist is refused");
	ok(PARSE(&cfg, "-p", "80", "--rootfs", dir, "--", "/bin/true") < 0, "a -p without a guest port is refused");
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
	fflush(stdout);
	int saved_stdout = dup(1), devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 1); // the usage text is not TAP
	int help = PARSE(&cfg, "--help");
	fflush(stdout);
	dup2(saved_stdout, 1);
	close(devnull);
	close(saved_stdout);
	is(help, 1, "--help is handled (exit 0)");

	// Users and groups come from the rootfs's own files.
	char etc[300], path[320];
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	mkdir(etc, 0755);
	snprintf(path, sizeof(path), "%s/passwd", etc);
	FILE *f = fopen(path, "w");
	fputs("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001:A:/home/alice:/bin/sh\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/group", etc);
	f = fopen(path, "w");
	fputs("root:x:0:\nstaff:x:1001:\nwheel:x:10:bob,alice\naudio:x:29:alice\n", f);
	fclose(f);
	is(PARSE(&cfg, "--rootfs", dir, "--", "true"), 0, "root by default");
	ok(env_has(&cfg, "HOME=/root"), "root's HOME from passwd");
	is(PARSE(&cfg, "--rootfs", dir, "-u", "alice", "--", "true"), 0, "-u alice");
	ok(cfg.uid == 1000 && cfg.gid == 1001 && env_has(&cfg, "HOME=/home/alice"), "uid, gid and HOME from passwd");
	ok(cfg.ngroups == 3 && cfg.groups[0] == 1001 && cfg.groups[1] == 10 && cfg.groups[2] == 29,
	   "her primary and supplementary groups");
	is(PARSE(&cfg, "--rootfs", dir, "-u", "alice:wheel", "--", "true"), 0, "-u alice:wheel");
	is(cfg.gid, 10, "the group named after the colon");
	is(PARSE(&cfg, "--rootfs", dir, "-u", "4242:77", "--", "true"), 0, "numbers need no passwd entry");
	ok(cfg.uid == 4242 && cfg.gid == 77 && env_has(&cfg, "HOME=/"), "uid 4242, gid 77, HOME=/");
	ok(PARSE(&cfg, "--rootfs", dir, "-u", "mallory", "--", "true") < 0, "an unknown user name");
	ok(PARSE(&cfg, "--rootfs", dir, "-u", "alice:nogroup", "--", "true") < 0, "an unknown group name");
	ok(PARSE(&cfg, "--rootfs", dir, "-u", "alice:", "--", "true") < 0, "an empty group");
	ok(PARSE(&cfg, "--rootfs", dir, "-u", "-1", "--", "true") < 0, "a negative uid");
	// passwd as a symlink pointing outside: resolved inside the rootfs, so not found.
	unlink(path);
	symlink("/etc/group", path);
	ok(PARSE(&cfg, "--rootfs", dir, "-u", "alice:root", "--", "true") < 0,
	   "/etc/group -> /etc/group resolves in the rootfs (itself: a loop), never the host's");
	unlink(path);
	snprintf(path, sizeof(path), "%s/passwd", etc);
	unlink(path);
	rmdir(etc);

	// Volumes, hostname, env files.
	char spec[600];
	snprintf(spec, sizeof(spec), "%s:/data:ro", dir);
	is(PARSE(&cfg, "--rootfs", dir, "-v", spec, "--hostname", "web-1.local", "--", "true"), 0, "-v and --hostname");
	ok(cfg.nvolumes == 1 && cfg.volumes[0].readonly && !strcmp(cfg.volumes[0].guest, "/data"), "a read-only volume at /data");
	const char *bad_vols[] = {"nocolon", ":/x", "/nonexistent:/x", "DIR:relative", "DIR:/", "DIR:/a/../b", "DIR:/x:rx"};
	for (size_t i = 0; i < sizeof(bad_vols) / sizeof(bad_vols[0]); i++) {
		char v[600];
		snprintf(v, sizeof(v), "%s%s", strncmp(bad_vols[i], "DIR", 3) ? "" : dir,
			 strncmp(bad_vols[i], "DIR", 3) ? bad_vols[i] : bad_vols[i] + 3);
		ok(PARSE(&cfg, "--rootfs", dir, "-v", v, "--", "true") < 0, "-v %s refused", bad_vols[i]);
	}
	snprintf(spec, sizeof(spec), "%s:/etc/app.conf", file);
	ok(PARSE(&cfg, "--rootfs", dir, "-v", spec, "--", "true") == 0 && cfg.volumes[0].file && !cfg.volumes[0].readonly,
	   "-v of a regular file: a file volume");
	snprintf(spec, sizeof(spec), "/dev/null:/x");
	ok(PARSE(&cfg, "--rootfs", dir, "-v", spec, "--", "true") < 0, "-v of a device refused");
	ok(PARSE(&cfg, "--rootfs", dir, "--hostname", "bad name", "--", "true") < 0, "a hostname with a space");
	is(PARSE(&cfg, "--rootfs", dir, "--", "true"), 0, "defaults again");
	ok(!cfg.interactive && cfg.stop_timeout_s == CONFIG_DEFAULT_STOP_TIMEOUT, "no stdin, 10 s stop timeout");
	is(PARSE(&cfg, "--rootfs", dir, "-i", "--stop-timeout", "0", "--", "true"), 0, "-i --stop-timeout 0");
	ok(cfg.interactive && cfg.stop_timeout_s == 0, "stdin passed, immediate kill");
	ok(PARSE(&cfg, "--rootfs", dir, "--stop-timeout", "soon", "--", "true") < 0, "a stop timeout that is not a number");
	is(PARSE(&cfg, "--rootfs", dir, "--", "true"), 0, "seccomp by default...");
	is(cfg.seccomp, SECCOMP_KILL, "...kills on a forbidden call");
	ok(PARSE(&cfg, "--rootfs", dir, "--seccomp", "log", "--", "true") == 0 && cfg.seccomp == SECCOMP_LOG, "--seccomp log");
	ok(PARSE(&cfg, "--rootfs", dir, "--seccomp", "off", "--", "true") == 0 && cfg.seccomp == SECCOMP_OFF, "--seccomp off");
	ok(PARSE(&cfg, "--rootfs", dir, "--seccomp", "lax", "--", "true") < 0, "--seccomp lax refused");
	snprintf(path, sizeof(path), "%s/env", dir);
	f = fopen(path, "w");
	fputs("# comment\n\nA=1\nB=x=y\nFROM_HOST\n", f);
	fclose(f);
	setenv("FROM_HOST", "here", 1);
	is(PARSE(&cfg, "--rootfs", dir, "--env-file", path, "--", "true"), 0, "--env-file");
	ok(env_has(&cfg, "A=1") && env_has(&cfg, "B=x=y") && env_has(&cfg, "FROM_HOST=here"),
	   "KEY=VALUE lines, '=' in values, a bare KEY from clearvm's environment");
	f = fopen(path, "w");
	fputs("=novalue\n", f);
	fclose(f);
	ok(PARSE(&cfg, "--rootfs", dir, "--env-file", path, "--", "true") < 0, "an env file line with no name");
	ok(PARSE(&cfg, "--rootfs", dir, "--env-file", "/nonexistent", "--", "true") < 0, "a missing env file");
	unlink(path);

	// -t needs a terminal: on stdout, and with -i on stdin too; its size goes to the guest.
	fflush(stdout);
	int saved_in = dup(0), saved_out = dup(1), null_fd = open("/dev/null", O_RDWR);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(master);
	unlockpt(master);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ioctl(slave, TIOCSWINSZ, &(struct winsize){.ws_row = 33, .ws_col = 111});
	dup2(null_fd, 0);
	dup2(null_fd, 1);
	int t_null = PARSE(&cfg, "--rootfs", dir, "-t", "--", "sh");
	dup2(slave, 1);
	int it_null_in = PARSE(&cfg, "--rootfs", dir, "-it", "--", "sh");
	int t_tty_out = PARSE(&cfg, "--rootfs", dir, "-t", "--", "sh");
	dup2(slave, 0);
	int it_tty = PARSE(&cfg, "--rootfs", dir, "-it", "--", "sh");
	dup2(saved_in, 0);
	dup2(saved_out, 1);
	ok(t_null < 0, "-t with stdout not a terminal is refused");
	ok(it_null_in < 0, "-it with stdin not a terminal is refused");
	is(t_tty_out, 0, "-t with stdout a terminal (no -i: stdin may be anything)");
	is(it_tty, 0, "-it on a terminal");
	ok(cfg.tty && cfg.interactive && cfg.tty_rows == 33 && cfg.tty_cols == 111,
	   "the terminal's size is recorded for the guest (33x111)");
	close(slave);
	close(master);
	close(null_fd);
	close(saved_in);
	close(saved_out);
	config_free(&cfg);

	unlink(file);
	rmdir(dir);
	return tap_done();
}
