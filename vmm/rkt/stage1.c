// SPDX-License-Identifier: Apache-2.0
// clearvm as an rkt stage1 (interface version 6): the run, stop and gc entrypoints, one
// static binary chosen by the name it is run as (rkt-run, rkt-stop, ...). run boots one VM
// for the whole pod and keeps the files rkt reads up to date as its apps end.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../guest-init/abi.h"
#include "../enter.h"
#include "../enter_client.h"
#include "../files.h"
#include "../util.h"
#include "../sandbox/privs.h"
#include "../vmm.h"
#include "pod.h"
#include "../net/net.h"
#include "stage1.h"

#define POD_MANIFEST_MAX (16 << 20)

struct stage1 {
	const struct vm_config *cfg;
};

// rkt status reads each app's decimal exit status from rkt/status/APP.
static void app_exited(void *ctx, unsigned app, int status)
{
	struct stage1 *s = ctx;
	char path[PATH_MAX], text[16];
	snprintf(path, sizeof(path), "stage1/rootfs/rkt/status/%s", s->cfg->apps[app].app_name);
	snprintf(text, sizeof(text), "%d", status);
	file_write(path, text);
}

// Every app has been started: rkt may now enter the pod.
static void milestone(void *ctx, unsigned m)
{
	(void)ctx;
	if (m != ABI_MILESTONE_EXEC)
		return;
	unlink("stage1/rootfs/rkt/supervisor-status");
	if (symlink("ready", "stage1/rootfs/rkt/supervisor-status") < 0)
		log_err(errno, "stage1/rootfs/rkt/supervisor-status");
}

// The VM is built: rkt enter and stop target this process.
static int write_pid(void *ctx)
{
	(void)ctx;
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return file_write("pid", pid);
}

// The kernel and initramfs beside this binary in the stage1 rootfs.
static int stage1_files(struct vm_config *cfg, char *kernel, char *initramfs, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return log_err(errno, "/proc/self/exe");
	exe[n] = '\0';
	const char *dir = dirname(exe);
	snprintf(kernel, size, "%s/vmlinux", dir);
	snprintf(initramfs, size, "%s/initramfs.cpio", dir);
	if (access(kernel, R_OK) < 0 || access(initramfs, R_OK) < 0)
		return log_err(errno, "the stage1's kernel and initramfs (%s/vmlinux, initramfs.cpio)", dir);
	cfg->kernel = kernel;
	cfg->initramfs = initramfs;
	return 0;
}

// rkt/env/APP: the environment each app runs with, KEY=VALUE lines.
static int write_envs(const struct vm_config *cfg)
{
	for (unsigned a = 0; a < cfg->napps; a++) {
		const struct vm_config *app = &cfg->apps[a];
		size_t len = 1;
		for (size_t i = 0; i < app->nenv; i++)
			len += strlen(app->env[i]) + 1;
		_cleanup_free_ char *text = calloc(1, len);
		if (!text)
			return -ENOMEM;
		for (size_t i = 0; i < app->nenv; i++) {
			strcat(text, app->env[i]);
			strcat(text, "\n");
		}
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "stage1/rootfs/rkt/env/%s", app->app_name);
		int r = file_write(path, text);
		if (r < 0)
			return r;
	}
	return 0;
}

// --net=LIST: "default" is the pod's user-mode network through passt (the guest with the
// host's address and nameservers, as clearvm's own default), "none" loopback only; a named
// CNI network is refused rather than silently missing.
static int check_net(const char *list, enum vm_network *mode)
{
	*mode = NETWORK_NONE;
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (char *save = NULL, *net = strtok_r(copy, ",", &save); net; net = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(net, ':'); // NAME:ARGS
		if (colon)
			*colon = '\0';
		if (!strcmp(net, "default"))
			*mode = NETWORK_PASST;
		else if (strcmp(net, "none") != 0)
			return log_err(0, "--net=%s: not supported by the clearvm stage1 (default: passt's "
					  "user-mode network, or none)", net);
	}
	return 0;
}

static bool flag(const char *arg, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n))
		return false;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return true;
	}
	if (arg[n] == '\0') {
		*value = "true";
		return true;
	}
	return false;
}

// The enter socket of the pod in dir (run's and enter's working directory): named after a
// hash of the path, so that it fits any path and needs no file.
static void enter_socket_name(const char *dir, char *buf, size_t size)
{
	uint64_t h = 14695981039346656037ULL; // FNV-1a
	for (const char *p = dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	snprintf(buf, size, "clearvm-enter-%016" PRIx64, h);
}

// As rkt's own stage1 does, the mount points a container expects (/proc, /sys, /dev, /tmp)
// are made in an app's root where its image has none, so that guest-init mounts them there.
// That root is the pod's own copy of the image (in the pod directory), never rkt's store.
static int make_mount_points(const char *rootfs)
{
	static const struct {
		const char *name;
		mode_t mode;
	} dirs[] = {{"proc", 0555}, {"sys", 0555}, {"dev", 0755}, {"tmp", 01777}};
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return log_err(errno, "%s", rootfs);
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (mkdirat(root, dirs[i].name, dirs[i].mode) < 0) {
			if (errno == EEXIST) // a directory, or what the image has there instead: its own
				continue;
			return log_err(errno, "%s/%s", rootfs, dirs[i].name);
		}
		_cleanup_close_ int d = openat(root, dirs[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0 || fchmod(d, dirs[i].mode) < 0) // the mode itself, whatever the umask
			return log_err(errno, "%s/%s", rootfs, dirs[i].name);
	}
	return 0;
}

// --dns-conf-mode=resolv=MODE,hosts=MODE, which rkt's stage0 passes when --dns or
// --hosts-entry was given ("default" for both otherwise).
struct dns_conf {
	char resolv[16], hosts[16];
};

static bool one_of(const char *s, const char *const *list)
{
	while (*list && strcmp(s, *list))
		list++;
	return *list != NULL;
}

static int parse_dns_conf_mode(const char *v, struct dns_conf *d)
{
	snprintf(d->resolv, sizeof(d->resolv), "default");
	snprintf(d->hosts, sizeof(d->hosts), "default");
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;
	for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		char *dst = !eq ? NULL : !strncmp(tok, "resolv=", 7) ? d->resolv : !strncmp(tok, "hosts=", 6) ? d->hosts : NULL;
		if (!dst || strlen(eq + 1) >= sizeof(d->resolv))
			return log_err(0, "--dns-conf-mode=%s: expected resolv=MODE,hosts=MODE", v);
		snprintf(dst, sizeof(d->resolv), "%s", eq + 1);
	}
	// "none" is a resolv mode only: there is always an /etc/hosts.
	static const char *const resolv_modes[] = {"default", "stage0", "host", "none", NULL};
	static const char *const hosts_modes[] = {"default", "stage0", "host", NULL};
	if (!one_of(d->resolv, resolv_modes) || !one_of(d->hosts, hosts_modes))
		return log_err(0, "--dns-conf-mode=%s: resolv is default, stage0, host or none; hosts default, stage0 or host", v);
	return 0;
}

// What the apps get as /etc/resolv.conf or /etc/hosts: the file rkt's stage0 wrote in the
// stage1 rootfs (stage0), the host's own (host), or nothing (*text NULL: the app's own).
static int dns_file(const char *mode, const char *stage0, const char *host, char **text)
{
	size_t len;
	const char *path = !strcmp(mode, "stage0") ? stage0 : !strcmp(mode, "host") ? host : NULL;
	*text = NULL;
	return path ? file_read(path, POD_MANIFEST_MAX, text, &len) : 0;
}

// etc/NAME in an app's root (the pod's copy): made empty, or with `content`, when missing, so
// that guest-init can bind the pod's file over it. An image whose etc is not a directory, or
// whose etc/NAME is a symlink, keeps its own.
static int ensure_etc_file(const char *rootfs, const char *name, const char *content)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0 || (mkdirat(root, "etc", 0755) < 0 && errno != EEXIST))
		return log_err(errno, "%s/etc", rootfs);
	_cleanup_close_ int etc = openat(root, "etc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0)
		return 0;
	_cleanup_close_ int fd = openat(etc, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : log_err(errno, "%s/etc/%s", rootfs, name);
	if (content && write_all(fd, content, strlen(content)) < 0)
		return log_err(errno, "%s/etc/%s", rootfs, name);
	return 0;
}

// rkt's fallback /etc/hosts, for an app whose image has none.
static const char hosts_fallback[] = "127.0.0.1 localhost localhost.localdomain\n"
				     "::1 localhost ip6-localhost ip6-loopback\n";

static int run(int argc, char **argv)
{
	const char *v, *net = "default", *hostname = NULL, *uuid = NULL, *dns_mode = "";
	bool debug = false, interactive = false, all_caps = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (flag(a, "--debug", &v))
			debug = strcmp(v, "false") != 0;
		else if (flag(a, "--net", &v))
			net = v;
		else if (flag(a, "--interactive", &v))
			interactive = strcmp(v, "false") != 0;
		else if (flag(a, "--hostname", &v))
			hostname = v;
		else if (flag(a, "--dns-conf-mode", &v))
			dns_mode = v;
		else if (flag(a, "--disable-capabilities-restriction", &v)) // --insecure-options=capabilities
			all_caps = strcmp(v, "false") != 0;
		else if (flag(a, "--mutable", &v) && strcmp(v, "false"))
			return log_err(0, "--mutable: the clearvm stage1 runs fixed pods (no rkt app add/rm)");
		else if (flag(a, "--private-users", &v) && *v)
			return log_err(0, "--private-users: not supported by the clearvm stage1 (the pod's "
					  "VM is its isolation; run without --private-users)");
		else if (a[0] == '-' && a[1] == '-')
			continue; // --local-config, --ipc, --disable-paths, --disable-seccomp, future flags
		else
			uuid = a;
	}
	log_verbose = debug;
	if (!uuid)
		return log_err(0, "run: no pod UUID given");
	// Everything rkt left open is closed once the VM is built, but the pod's lock: the pod
	// counts as running while it is held.
	const char *lock = getenv("RKT_LOCK_FD");
	static int inherited[1024];
	int ninherited = privs_inherited_fds(inherited, 1024, lock ? atoi(lock) : -1);
	struct dns_conf dns;
	enum vm_network network;
	int r = check_net(net, &network);
	if (r < 0 || (r = parse_dns_conf_mode(dns_mode, &dns)) < 0)
		return r;
	_cleanup_free_ char *resolv_conf = NULL, *hosts = NULL;
	if ((r = dns_file(dns.resolv, "stage1/rootfs/etc/rkt-resolv.conf", "/etc/resolv.conf", &resolv_conf)) < 0 ||
	    (r = dns_file(dns.hosts, "stage1/rootfs/etc/rkt-hosts", "/etc/hosts", &hosts)) < 0)
		return r;
	char pod_dir[PATH_MAX];
	if (!getcwd(pod_dir, sizeof(pod_dir)))
		return log_err(errno, "the pod directory");
	_cleanup_free_ char *text = NULL;
	size_t len;
	if ((r = file_read("pod", POD_MANIFEST_MAX, &text, &len)) < 0)
		return r;
	static struct pod pod;
	r = pod_load(text, len, pod_dir, &pod);
	struct vm_config *cfg = &pod.vm;
	char host[80];
	snprintf(host, sizeof(host), "rkt-%s", uuid);
	cfg->hostname = hostname ? hostname : host;
	cfg->resolv_conf = resolv_conf;
	cfg->hosts = hosts;
	cfg->network = network;
	if (r == 0 && network == NETWORK_NONE && cfg->npublish)
		r = log_err(0, "pod: port forwards (rkt run --port) need the default network (--net=default)");
	r = r ?: net_resolve(cfg); // the network's resolv.conf and hosts, unless rkt's DNS mode gave them
	for (unsigned i = 0; r == 0 && i < cfg->napps; i++) {
		const char *root = cfg->apps[i].rootfs;
		r = make_mount_points(root);
		if (r == 0 && cfg->resolv_conf)
			r = ensure_etc_file(root, "resolv.conf", NULL);
		if (r == 0)
			r = ensure_etc_file(root, "hosts", cfg->hosts ? NULL : hosts_fallback);
		cfg->apps[i].bound_caps = cfg->apps[i].bound_caps && !all_caps;
	}
	char kernel[PATH_MAX], initramfs[PATH_MAX];
	cfg->verbose = debug;
	cfg->interactive = interactive;
	if (r == 0 && interactive && cfg->napps != 1)
		r = log_err(0, "--interactive: only for a pod of one app (this one has %u)", cfg->napps);
	if (r == 0 && interactive && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		cfg->tty = true;
		r = tty_check(cfg);
	}
	r = r ?: stage1_files(cfg, kernel, initramfs, sizeof(kernel));
	r = r ?: write_envs(cfg);
	char socket_name[64];
	enter_socket_name(pod_dir, socket_name, sizeof(socket_name));
	cfg->enter_socket = socket_name;
	if (r < 0) {
		pod_free(&pod);
		return r;
	}

	struct stage1 s = {.cfg = cfg};
	static struct vmm_launch l;
	l = (struct vmm_launch){.cfg = cfg, .built = write_pid, .inherited = inherited, .ninherited = ninherited,
				.hooks = {.ctx = &s, .app_exited = app_exited, .milestone = milestone}};
	trace_start(&l.trace);
	int status = vmm_main(&l);
	pod_free(&pod);
	return status;
}

// stop [--force] UUID: a graceful stop is SIGTERM, which clearvm forwards to every app (and
// follows with SIGKILL after the stop timeout); --force kills the VM at once.
static int stop(int argc, char **argv)
{
	const char *v;
	bool force = false;
	for (int i = 1; i < argc; i++)
		if (flag(argv[i], "--force", &v))
			force = strcmp(v, "false") != 0;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = file_read("pid", POD_MANIFEST_MAX, &text, &len);
	if (r < 0)
		return r;
	char *end;
	long pid = strtol(text, &end, 10);
	if (pid <= 1 || (*end && *end != '\n'))
		return log_err(0, "stop: pid file holds %s, not a process id", text);
	if (kill((pid_t)pid, force ? SIGKILL : SIGTERM) < 0 && errno != ESRCH)
		return log_err(errno, "stop: pod process %ld", pid);
	return 0;
}

// enter --pid=PID --appname=APP -- CMD ARGS...: runs CMD as root in the app's root inside the
// running pod, with this process's stdin, stdout and stderr, and exits with its status. From a
// terminal (stdin and stdout), CMD gets a pty of the terminal's size, and the terminal is raw
// while it runs.
static int enter(int argc, char **argv)
{
	const char *v, *app = NULL;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i++)
		if (flag(argv[i], "--appname", &v))
			app = v;
	char *sh[] = {"/bin/sh", NULL}, **cmd = i + 1 < argc ? argv + i + 1 : sh;
	if (!app || !*app)
		return log_err(0, "enter: --appname=APP is required");
	const char *term = getenv("TERM");
	char term_kv[256] = "";
	if (term)
		snprintf(term_kv, sizeof(term_kv), "TERM=%s", term);
	char *env[] = {"PATH=" CONFIG_DEFAULT_PATH, "HOME=/root", term ? term_kv : NULL, NULL};
	struct enter_request req = {.app = app, .cwd = "/", .argv = cmd, .env = env};
	req.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (req.tty && !tty_size(&req.rows, &req.cols))
		req.rows = req.cols = 0;
	char dir[PATH_MAX], name[64];
	if (!getcwd(dir, sizeof(dir)))
		return log_err(errno, "enter: the pod directory");
	enter_socket_name(dir, name, sizeof(name));
	_cleanup_close_ int s = enter_connect(name, true);
	if (s < 0)
		return log_err(s, "enter: no running pod in %s", dir);
	int r = enter_send(s, &req);
	if (r < 0)
		return r;
	if (req.tty && tty_raw() < 0)
		log_debug("enter: the terminal stays in its mode");
	r = enter_wait(s, req.tty ? STDIN_FILENO : -1);
	if (req.tty)
		tty_restore();
	return r;
}

// gc [--debug] [--local-config DIR] UUID, in the exited pod's directory: what clearvm left
// there beyond rkt's own files is the "empty" volumes.
static int gc(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct stat st;
	if (lstat("clearvm", &st) < 0)
		return errno == ENOENT ? 0 : log_err(errno, "gc: clearvm");
	return file_remove_tree("clearvm");
}

static int unsupported(int argc, char **argv)
{
	(void)argc;
	return log_err(0, "%s: not supported by the clearvm stage1: a pod's apps are fixed when its VM starts",
		       basename(argv[0]));
}

bool stage1_invoked(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	return !strncmp(base ? base + 1 : argv0, "rkt-", 4);
}

int stage1_main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} entry[] = {{"rkt-run", run},
		     {"rkt-stop", stop},
		     {"rkt-gc", gc},
		     {"rkt-enter", enter},
		     {"rkt-app-add", unsupported},
		     {"rkt-app-rm", unsupported},
		     {"rkt-app-start", unsupported},
		     {"rkt-app-stop", unsupported},
		     {"rkt-attach", unsupported}};
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_SIZE(entry); i++) {
		if (strcmp(base, entry[i].name))
			continue;
		int r = entry[i].fn(argc, argv);
		fflush(stdout);
		return r < 0 ? EXIT_CLEARVM_FAILED : r;
	}
	log_err(0, "%s: not a clearvm stage1 entrypoint", base);
	return EXIT_CLEARVM_FAILED;
}
