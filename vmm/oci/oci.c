// SPDX-License-Identifier: Apache-2.0
// clearvm as an OCI runtime (the runtime-spec command line, as runc takes it): create forks
// the VMM, which builds the VM and waits on exec.fifo; start lets it run; state, kill and
// delete read the state directory and the VMM's process.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../devnodes.h"
#include "../enter_client.h"
#include "../files.h"
#include "../net/net.h"
#include "../sandbox/privs.h"
#include "../util.h"
#include "../vmm.h"
#include "bundle.h"
#include "command.h"
#include "console.h"
#include "hooks.h"
#include "oci.h"
#include "pod_share.h"
#include "state.h"

static int open_log(const char *path, const char *format)
{
	if (format && strcmp(format, "json") && strcmp(format, "text"))
		return log_err(0, "--log-format %s: expected text or json", format);
	log_json = format && !strcmp(format, "json");
	if (!path)
		return 0;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return log_err(errno, "--log %s", path);
	log_fd = fd;
	return 0;
}

// The VMM of a created container, between building its VM and running it.
struct waiting {
	int ready; // written once the VM is built (create returns then)
	int fifo;  // exec.fifo, read end: start writes a byte
};

static int wait_for_start(void *ctx)
{
	struct waiting *w = ctx;
	char c = 1;
	int r = write_all(w->ready, &c, 1);
	close(w->ready);
	if (r < 0)
		return r;
	struct pollfd p = {.fd = w->fifo, .events = POLLIN};
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return log_err(errno, "waiting for start");
	ssize_t n = read(w->fifo, &c, 1);
	close(w->fifo);
	return n == 1 ? 0 : log_err(0, "start: exec.fifo closed without a byte");
}

static void now_rfc3339(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
	snprintf(buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

// What the container's process waits on until start: exec.fifo's read end, and `ready` to
// tell create it is built. 0 or -errno (logged).
static int open_waiting(const struct oci_state *s, int ready, struct waiting *w)
{
	char fifo_path[PATH_MAX + 16];
	snprintf(fifo_path, sizeof(fifo_path), "%s/exec.fifo", s->dir);
	*w = (struct waiting){.ready = ready,
			      .fifo = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
	return w->fifo < 0 ? log_err(errno, "%s", fifo_path) : 0;
}

// The VMM: runs the VM once start has been given; its exit status is the container's.
static int vmm_child(const struct vm_config *cfg, struct oci_state *s, int ready,
		     const int *inherited, int ninherited)
{
	struct waiting w;
	if (open_waiting(s, ready, &w) < 0)
		return EXIT_CLEARVM_FAILED;
	static struct vmm_launch l;
	l = (struct vmm_launch){.cfg = cfg,
				.built = wait_for_start,
				.inherited = inherited,
				.ninherited = ninherited,
				.hooks = {.ctx = &w}};
	trace_start(&l.trace);
	return vmm_main(&l);
}

// A Kubernetes pod's sandbox (its "pause" container). In clearvm a pod's VM is its app
// container's (which takes over the pod's network namespace), so the sandbox runs nothing:
// this process stands for it as pause does. It waits for start, then for SIGTERM or SIGINT
// (exit 0, as pause), holding no VM, no fd of the engine's beyond stdio, and no privilege: as
// root it becomes nobody (it needs no file), then gives up what the VMM gives up (privs.c).
static int sandbox_child(struct oci_state *s, int ready, const int *inherited, int ninherited)
{
	sigset_t down;
	sigemptyset(&down);
	sigaddset(&down, SIGTERM);
	sigaddset(&down, SIGINT);
	sigprocmask(SIG_BLOCK, &down, NULL); // kept for sigwait, also when sent before start
	struct waiting w;
	if (open_waiting(s, ready, &w) < 0)
		return EXIT_CLEARVM_FAILED;
	if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
			       setresuid(65534, 65534, 65534) < 0))
		return log_err(errno, "pod sandbox: becoming nobody"), EXIT_CLEARVM_FAILED;
	if (privs_drop(inherited, ninherited, 0) < 0 || wait_for_start(&w) < 0)
		return EXIT_CLEARVM_FAILED;
	int sig;
	while (sigwait(&down, &sig) != 0)
		;
	return 0;
}

// A pod's later container (pod_share.h): this process stands for it on the host as an exec's
// does. It connects to the pod's VM at create (so a VM gone is said then), becomes nobody as
// the sandbox does, sends the container's process at start, passes on the signals it gets and
// ends with the container's status; killed, its container is killed in the guest.
static int joined_child(struct oci_state *s, int ready, struct bundle *b, const char *owner_dir,
			const int *inherited, int ninherited)
{
	struct waiting w;
	if (open_waiting(s, ready, &w) < 0)
		return EXIT_CLEARVM_FAILED;
	int sock = oci_exec_connect(owner_dir);
	if (sock < 0)
		return log_err(sock, "the pod's VM (container %s)", s->pod), EXIT_CLEARVM_FAILED;
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
		return log_err(errno, "container %s: becoming nobody", s->id), EXIT_CLEARVM_FAILED;
	if (privs_drop(inherited, ninherited, 0) < 0 || wait_for_start(&w) < 0)
		return EXIT_CLEARVM_FAILED;
	struct enter_request req;
	if (oci_enter_request(b, s->id, &req) < 0)
		return EXIT_CLEARVM_FAILED;
	req.container = true;
	req.volumes = b->vm.volumes;
	req.nvolumes = b->vm.nvolumes;
	int st = enter_send(sock, &req) ?: enter_wait(sock, -1);
	return st < 0 ? EXIT_CLEARVM_FAILED : st;
}

// linux.cgroupsPath, cgroupfs style on a cgroup v2 host ("/a/b" or "a/b", beneath the
// hierarchy's root): the directory is made (the VMM joins it first thing, so the whole VM is
// accounted there; no limit is set on it, since the VM's RAM is sized from the limit instead).
// systemd's "slice:prefix:name" and cgroup v1 hosts: the VMM stays in the engine's cgroup.
static int make_cgroup(const char *path, struct oci_state *s)
{
	struct statfs fs;
	s->cgroup[0] = '\0';
	if (!path || !*path || strchr(path, ':') || strstr(path, "..") ||
	    statfs("/sys/fs/cgroup", &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
		return 0;
	char dir[4096];
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s", path + (path[0] == '/'));
	int r = file_mkdir_p(dir, 0755);
	if (r == 0)
		snprintf(s->cgroup, sizeof(s->cgroup), "%s", dir);
	return r;
}

// The VMM joins its cgroup. 0 or -errno (logged).
static int join_cgroup(const char *dir)
{
	char procs[4200];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	int r = write_setting(procs, "0");
	return r < 0 ? log_err(r, "joining cgroup %s", dir) : 0;
}

static int make_dirs(const char *root, struct oci_state *s)
{
	if (file_mkdir_p(root, 0711) < 0)
		return -EIO;
	if (mkdir(s->dir, 0700) < 0)
		return errno == EEXIST ? log_err(0, "container %s already exists", s->id)
				       : log_err(errno, "%s", s->dir);
	char fifo[PATH_MAX + 16];
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", s->dir);
	if (mkfifo(fifo, 0600) < 0) {
		int r = log_err(errno, "%s", fifo);
		rmdir(s->dir);
		return r;
	}
	return 0;
}

// The exec socket in the state directory, listening, for the VMM's I/O thread to take.
static int listen_exec(const struct oci_state *s, struct vm_config *cfg)
{
	int dirfd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	oci_exec_socket_path(dirfd, sa.sun_path, sizeof(sa.sun_path));
	int fd = dirfd < 0 ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0
		    ? log_err(errno, "%s/exec.sock", s->dir)
		    : 0;
	if (dirfd >= 0)
		close(dirfd);
	if (r < 0 && fd >= 0)
		close(fd);
	cfg->exec = r == 0;
	cfg->exec_fd = r == 0 ? fd : -1;
	return r;
}

// create gives up: the VMM (if any; it said why it failed, or is killed) reaped, the state
// directory and cgroup removed, the bundle freed.
static int create_failed(pid_t pid, struct oci_state *s, struct bundle *b)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	state_remove(s);
	bundle_free(b);
	return OCI_FAILED;
}

static int do_create(struct oci_globals *g, int argc, char **argv)
{
	const char *bundle = ".", *pid_file = NULL, *console = NULL, *v, *id = NULL;
	for (int i = 0; i < argc; i++) {
		if (opt_value(argc, argv, &i, "--bundle", &bundle) ||
		    opt_value(argc, argv, &i, "-b", &bundle) ||
		    opt_value(argc, argv, &i, "--pid-file", &pid_file) ||
		    opt_value(argc, argv, &i, "--console-socket", &console))
			continue;
		if (opt_value(argc, argv, &i, "--preserve-fds", &v)) {
			if (strcmp(v, "0"))
				return log_err(0,
					       "--preserve-fds %s: a host fd cannot enter the VM",
					       v),
				       OCI_FAILED;
		} else if (opt_flag(argv[i], "--no-pivot") ||
			   opt_flag(argv[i], "--no-new-keyring")) {
			continue; // the guest pivots into its own root and has its own keyrings
		} else if (argv[i][0] == '-') {
			return log_err(0, "create: %s: unknown option", argv[i]), OCI_FAILED;
		} else if (id) {
			return log_err(0, "create: more than one container id"), OCI_FAILED;
		} else {
			id = argv[i];
		}
	}
	if (!id || !state_id_valid(id))
		return log_err(0, "create: %s: not a container id", id ? id : "(none)"), OCI_FAILED;
	char dir[PATH_MAX];
	if (!realpath(bundle, dir))
		return log_err(errno, "bundle %s", bundle), OCI_FAILED;
	static struct bundle b;
	int r = bundle_load(dir, &b);
	if (r == 0 && b.vm.tty != (console != NULL))
		r = log_err(0, "%s",
			    console ? "--console-socket: config.json's process.terminal is false"
				    : "process.terminal: needs --console-socket");
	if (r == 0 && b.sandbox && console)
		r = log_err(0, "a pod sandbox has no terminal");
	// A path to the network namespace clearvm runs in (the host's, as runc would share it): the
	// host's network through passt, as with no namespace, never the host's own interface.
	if (r == 0 && b.netns == BUNDLE_NETNS_PATH && file_same(b.netns_path, "/proc/self/ns/net"))
		b.netns = BUNDLE_NETNS_HOST;
	// A Kubernetes pod's app container: the first in the pod's network namespace makes the
	// pod's VM; a later one runs in that VM (pod_share.h).
	bool pod = r == 0 && b.netns == BUNDLE_NETNS_PATH && !b.sandbox && geteuid() == 0;
	static char owner[STATE_ID_MAX + 1], owner_dir[PATH_MAX];
	pid_t owner_pid = 0;
	bool joined = pod && pod_find(g->root_dir, b.netns_path, owner, sizeof(owner), &owner_pid) > 0;
	snprintf(owner_dir, sizeof(owner_dir), "%s/%s", g->root_dir, owner);
	if (r == 0)
		r = bundle_check_namespaces(&b, joined ? owner_pid : 0);
	if (joined && console)
		r = log_err(0, "a pod's later container with a terminal: not supported (the pod's "
			       "first container may have one)");
	struct console con = {-1, -1};
	if (r == 0 && console)
		r = console_open(&con, b.console_rows, b.console_cols);
	if (r == 0 && b.netns == BUNDLE_NETNS_PATH && !b.sandbox && !joined) {
		int fd = open(b.netns_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			r = log_err(errno, "network namespace %s", b.netns_path);
		if (fd >= 0)
			close(fd);
		// As root there, the guest takes over its interface; else passt runs in it.
		if (r == 0 && geteuid() == 0)
			r = net_attach_namespace(&b.vm);
	}
	struct vm_config *cfg = &b.vm;
	r = r ?: (b.sandbox ? 0 : config_check(cfg)); // a sandbox runs nothing of its bundle
	if (r == 0) { // the groups the bundle names, exactly (not the rootfs's /etc/group)
		memcpy(cfg->groups, b.groups, sizeof(b.groups));
		cfg->ngroups = b.ngroups;
	}
	static struct oci_state s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	snprintf(s.dir, sizeof(s.dir), "%s/%s", g->root_dir, id);
	snprintf(s.bundle, sizeof(s.bundle), "%s", dir);
	now_rfc3339(s.created, sizeof(s.created));
	s.ram_mib = b.sandbox || joined ? 0 : b.vm.memory_mib;
	r = r ?: make_dirs(g->root_dir, &s);
	if (r < 0) {
		bundle_free(&b);
		return OCI_FAILED;
	}
	if (make_cgroup(b.cgroups_path, &s) < 0)
		return create_failed(0, &s, &b);
	if (joined) {
		snprintf(s.pod, sizeof(s.pod), "%s", owner);
		s.pod_volumes = cfg->nvolumes;
	}
	if ((joined && pod_bind(owner_dir, id, cfg) < 0) || (pod && !joined && pod_share_add(&s, b.netns_path, cfg) < 0))
		return create_failed(0, &s, &b);
	// The fds the VMM closes when it drops its privileges: all but the log's, and the exec
	// socket made after this list.
	static int inherited[1024];
	int ninherited = privs_inherited_fds(inherited, 1024, log_fd);
	cfg->exec_fd = -1; // a sandbox takes no exec, a pod's later container's go to the pod's VM
	if (!b.sandbox && !joined && listen_exec(&s, cfg) < 0)
		return create_failed(0, &s, &b);
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return log_err(errno, "pipe"), create_failed(0, &s, &b);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		if (console && (setsid() < 0 || ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0))
			log_err(errno,
				"the terminal: controlling terminal (resizes will not be seen)");
		if (s.cgroup[0] && !b.sandbox && !joined) // the cgroup may allow no device (podman's pods)
			devnodes_preopen();
		int status = s.cgroup[0] && join_cgroup(s.cgroup) < 0
				 ? EXIT_CLEARVM_FAILED
			     : b.sandbox ? sandbox_child(&s, ready[1], inherited, ninherited)
			     : joined	 ? joined_child(&s, ready[1], &b, owner_dir, inherited, ninherited)
					 : vmm_child(cfg, &s, ready[1], inherited, ninherited);
		fflush(stdout);
		_exit(status);
	}
	close(ready[1]);
	if (cfg->exec_fd >= 0)
		close(cfg->exec_fd);
	char c;
	ssize_t n = pid < 0 ? -1 : read(ready[0], &c, 1);
	close(ready[0]);
	if (pid < 0)
		log_err(errno, "fork");
	if (n != 1 || (console && console_send(&con, console) < 0))
		return create_failed(pid, &s, &b);
	s.pid = pid;
	s.starttime = state_proc_starttime(pid);
	s.annotations = (char *)b.annotations;
	char text[32];
	snprintf(text, sizeof(text), "%d", (int)pid);
	r = state_write(&s);
	// The VM is built, its workload not started: prestart and createRuntime, with the state.
	r = r ?: hooks_run(b.hooks, "prestart", &s);
	r = r ?: hooks_run(b.hooks, "createRuntime", &s);
	s.annotations = NULL;
	if (r == 0 && pid_file)
		r = file_write(pid_file, text);
	if (r < 0)
		return create_failed(pid, &s, &b);
	bundle_free(&b);
	return 0;
}

static int do_start(struct oci_globals *g, int argc, char **argv)
{
	const char *id = one_id(argc, argv, "start", NULL, NULL);
	struct oci_state s;
	if (!id || state_read(g->root_dir, id, &s) < 0)
		return OCI_FAILED;
	enum oci_status st = state_status(&s);
	state_free(&s);
	if (st != OCI_CREATED)
		return log_err(0, "start: container %s is %s, not created", id,
			       state_status_name(st)),
		       OCI_FAILED;
	char fifo[PATH_MAX + 16];
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", s.dir);
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return log_err(errno == ENXIO ? 0 : errno, "start: container %s%s", id,
			       errno == ENXIO ? " has stopped" : ""),
		       OCI_FAILED;
	unlink(fifo);
	char c = 1;
	int r = write_all(fd, &c, 1);
	close(fd);
	if (r < 0)
		return log_err(r, "start: container %s", id), OCI_FAILED;
	// poststart: a failure is said, the container goes on (runtime-spec).
	json_object *hooks, *doc = hooks_load(s.bundle, &hooks);
	if (hooks && state_read(g->root_dir, id, &s) == 0) {
		if (hooks_run(hooks, "poststart", &s) < 0)
			log_msg("start: container %s runs, a poststart hook failed", id);
		state_free(&s);
	}
	json_object_put(doc);
	return 0;
}

static int do_state(struct oci_globals *g, int argc, char **argv)
{
	const char *id = one_id(argc, argv, "state", NULL, NULL);
	struct oci_state s;
	if (!id || state_read(g->root_dir, id, &s) < 0)
		return OCI_FAILED;
	static char text[16384];
	state_format(&s, text, sizeof(text));
	state_free(&s);
	fputs(text, stdout);
	return 0;
}

static int parse_signal(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},	    {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
		    {"USR1", SIGUSR1}, {"USR2", SIGUSR2},   {"TERM", SIGTERM}, {"CONT", SIGCONT},
		    {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}, {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}};
	char *end;
	long n = strtol(name, &end, 10);
	if (!*end && end != name)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (!strcmp(name, sigs[i].name))
			return sigs[i].sig;
	return -1;
}

static int do_kill(struct oci_globals *g, int argc, char **argv)
{
	const char *id = NULL, *sig_name = "TERM";
	for (int i = 0; i < argc; i++) {
		if (opt_flag(argv[i], "--all") || opt_flag(argv[i], "-a"))
			continue; // the VMM stands for every process of the container
		if (argv[i][0] == '-' && argv[i][1])
			return log_err(0, "kill: %s: unknown option", argv[i]), OCI_FAILED;
		if (!id)
			id = argv[i];
		else
			sig_name = argv[i];
	}
	int sig = parse_signal(sig_name);
	if (!id)
		return log_err(0, "kill: no container id given"), OCI_FAILED;
	if (sig < 0)
		return log_err(0, "kill: %s: not a signal", sig_name), OCI_FAILED;
	struct oci_state s;
	if (state_read(g->root_dir, id, &s) < 0)
		return OCI_FAILED;
	enum oci_status st = state_status(&s);
	state_free(&s);
	if (st == OCI_STOPPED)
		return log_err(0, "kill: container %s is not running", id), OCI_FAILED;
	if (kill(s.pid, sig) < 0)
		return log_err(errno, "kill: container %s", id), OCI_FAILED;
	return 0;
}

// SIGKILL to the VMM, and back once it has ended (a zombie its parent has yet to reap counts).
static int kill_and_wait(const struct oci_state *s)
{
	int pfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (state_status(s) == OCI_STOPPED) { // checked after the pidfd: it names the VMM
		if (pfd >= 0)
			close(pfd);
		return 0;
	}
	if (kill(s->pid, SIGKILL) < 0 && errno != ESRCH)
		return log_err(errno, "delete: killing container %s", s->id);
	if (pfd >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		close(pfd);
	}
	return 0;
}

static int do_delete(struct oci_globals *g, int argc, char **argv)
{
	static const char *const flags[] = {"--force", "-f", NULL};
	bool set[2] = {false, false};
	const char *id = one_id(argc, argv, "delete", flags, set);
	struct oci_state s;
	if (!id)
		return OCI_FAILED;
	if (state_read(g->root_dir, id, &s) < 0)
		return set[0] || set[1] ? 0 : OCI_FAILED; // --force: gone already is done
	state_free(&s);
	enum oci_status st = state_status(&s);
	if ((st == OCI_RUNNING || st == OCI_PAUSED) && !set[0] && !set[1])
		return log_err(0, "delete: container %s is %s (stop it, or --force)", id, state_status_name(st)),
		       OCI_FAILED;
	if (st != OCI_STOPPED && kill_and_wait(&s) < 0)
		return OCI_FAILED;
	if (state_remove(&s) < 0)
		return OCI_FAILED;
	// poststop, with the state the container had (stopped): a failure is said, delete is done.
	json_object *hooks, *doc = hooks_load(s.bundle, &hooks);
	if (hooks && hooks_run(hooks, "poststop", &s) < 0)
		log_msg("delete: container %s deleted, a poststop hook failed", id);
	json_object_put(doc);
	return 0;
}

// ps [--format table|json] ID: the host processes engines may signal, which is the VMM alone
// (the workload's processes live in the guest).
static int do_ps(struct oci_globals *g, int argc, char **argv)
{
	const char *format = "table", *id = NULL;
	for (int i = 0; i < argc; i++) {
		if (opt_value(argc, argv, &i, "--format", &format) ||
		    opt_value(argc, argv, &i, "-f", &format))
			continue;
		if (argv[i][0] == '-' || id)
			return log_err(0, "ps: %s: unexpected (ps [--format table|json] ID)",
				       argv[i]),
			       OCI_FAILED;
		id = argv[i];
	}
	if (strcmp(format, "json") && strcmp(format, "table"))
		return log_err(0, "ps: --format %s: expected table or json", format), OCI_FAILED;
	struct oci_state s;
	if (!id || state_read(g->root_dir, id, &s) < 0)
		return id ? OCI_FAILED : (log_err(0, "ps: no container id given"), OCI_FAILED);
	state_free(&s);
	bool live = state_status(&s) != OCI_STOPPED;
	if (!strcmp(format, "json"))
		live ? printf("[%d]\n", (int)s.pid) : printf("[]\n");
	else
		live ? printf("PID\n%d\n", (int)s.pid) : printf("PID\n");
	return 0;
}

// features: what this runtime honours (runtime-spec's features document).
static int do_features(void)
{
	fputs(
	    "{\n"
	    "  \"ociVersionMin\": \"1.0.0\",\n"
	    "  \"ociVersionMax\": \"1.1.0\",\n"
	    "  \"hooks\": [\"prestart\", \"createRuntime\", \"poststart\", \"poststop\"],\n"
	    "  \"mountOptions\": [\"bind\", \"rbind\", \"ro\", \"rw\"],\n"
	    "  \"linux\": {\n"
	    "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"uts\"],\n"
	    "    \"cgroup\": {\"v1\": false, \"v2\": true, \"systemd\": false, \"systemdUser\": "
	    "false},\n"
	    "    \"seccomp\": {\"enabled\": false},\n"
	    "    \"apparmor\": {\"enabled\": false},\n"
	    "    \"selinux\": {\"enabled\": false}\n"
	    "  },\n"
	    "  \"annotations\": {\"io.clearvm.vm\": \"one KVM virtual machine per container\",\n"
	    "                  \"" BUNDLE_ANNOTATION_FS "\": \"9p or virtiofs: how the root is shared\"}\n"
	    "}\n",
	    stdout);
	return 0;
}

static const char *const verbs[] = {"create", "start", "state",    "kill",   "delete", "exec",
				    "ps",     "pause", "resume", "update", "features", NULL};

// runc's global flags before the command, from argv[1]: the index of the first other word
// (argc if none). g, when given, takes their values.
static int globals(int argc, char **argv, struct oci_globals *g, const char **log,
		   const char **format)
{
	const char *v, *ignored;
	int i = 1;
	for (; i < argc; i++) {
		if (opt_value(argc, argv, &i, "--root", g ? &g->root : &v) ||
		    opt_value(argc, argv, &i, "--log", log ? log : &v) ||
		    opt_value(argc, argv, &i, "--log-format", format ? format : &v) ||
		    opt_value(argc, argv, &i, "--criu", &ignored) ||
		    opt_value(argc, argv, &i, "--rootless", &ignored) ||
		    opt_flag(argv[i], "--systemd-cgroup"))
			continue;
		if (!opt_flag(argv[i], "--debug"))
			break;
		if (g)
			log_verbose = true;
	}
	return i;
}

bool oci_invoked(int argc, char **argv)
{
	int i = globals(argc, argv, NULL, NULL, NULL);
	for (int k = 0; i < argc && verbs[k]; k++)
		if (!strcmp(argv[i], verbs[k]))
			return true;
	return false;
}

int oci_main(int argc, char **argv)
{
	static struct oci_globals g;
	const char *log = NULL, *format = NULL;
	int i = globals(argc, argv, &g, &log, &format);
	if (open_log(log, format) < 0 || state_root(g.root, g.root_dir, sizeof(g.root_dir)) < 0)
		return OCI_FAILED;
	signal(SIGPIPE, SIG_IGN);
	const char *verb = argv[i];
	int n = argc - i - 1;
	char **rest = argv + i + 1;
	if (!strcmp(verb, "create"))
		return do_create(&g, n, rest);
	if (!strcmp(verb, "start"))
		return do_start(&g, n, rest);
	if (!strcmp(verb, "state"))
		return do_state(&g, n, rest);
	if (!strcmp(verb, "kill"))
		return do_kill(&g, n, rest);
	if (!strcmp(verb, "exec"))
		return oci_exec(&g, n, rest);
	if (!strcmp(verb, "ps"))
		return do_ps(&g, n, rest);
	if (!strcmp(verb, "pause") || !strcmp(verb, "resume"))
		return oci_pause(&g, n, rest, !strcmp(verb, "resume"));
	if (!strcmp(verb, "update"))
		return oci_update(&g, n, rest);
	if (!strcmp(verb, "features"))
		return do_features();
	return do_delete(&g, n, rest);
}
