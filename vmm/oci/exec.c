// SPDX-License-Identifier: Apache-2.0
// exec: a process in a running container's VM, through the enter session socket its VMM
// listens on (ROOT/ID/exec.sock, made by create). The process is described by --process FILE
// (runtime-spec's process object, as podman's conmon and containerd's shim give it) or by the
// container's own process with this command's words and -e/--cwd/-u/-t over it (as runc's
// exec takes them). On the host it is this exec process, or with --detach a child of it that
// outlives it: its pid goes in --pid-file, it passes the signals it gets on to the process in
// the guest (containerd signals exec'd processes by pid), and it exits with its status.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "../config.h"
#include "../enter_client.h"
#include "../files.h"
#include "../util.h"
#include "bundle.h"
#include "command.h"
#include "console.h"
#include "state.h"

#define PROCESS_JSON_MAX (1 << 20)

struct exec_options {
	const char *process, *pid_file, *console, *cwd, *user;
	bool detach, tty;
	const char *env[64];
	unsigned nenv;
	const char *id;
	char **cmd; // the command's words (without --process), NULL-terminated
};

void oci_exec_socket_path(int dirfd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d/exec.sock", dirfd);
}

int oci_exec_connect(const char *dir)
{
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	char path[64];
	oci_exec_socket_path(dirfd, path, sizeof(path));
	int sock = enter_connect(path, false);
	close(dirfd);
	return sock;
}

int oci_enter_request(struct bundle *b, const char *app, struct enter_request *req)
{
	int r = config_has_env(&b->vm, "PATH") ? 0 : config_set_env(&b->vm, "PATH=" CONFIG_DEFAULT_PATH);
	if (r < 0)
		return r;
	*req = (struct enter_request){.app = app,
				      .cwd = b->vm.workdir,
				      .argv = b->vm.argv,
				      .env = b->vm.env,
				      .uid = b->uid,
				      .gid = b->gid,
				      .groups = b->groups,
				      .ngroups = b->ngroups,
				      .tty = b->vm.tty,
				      .no_new_privs = b->vm.no_new_privs,
				      // a pod's later container's own (a VM's container: its workload's)
				      .bound_caps = app[0] && b->vm.bound_caps,
				      .caps = b->vm.caps};
	for (unsigned i = 0; i < b->vm.nrlimits && i < ABI_ENTER_MAX_RLIMITS; i++, req->nrlimits++)
		req->rlimits[i] = (struct abi_rlimit){.resource = b->vm.rlimits[i].resource,
						      .soft = b->vm.rlimits[i].soft,
						      .hard = b->vm.rlimits[i].hard};
	return 0;
}

static int parse(int argc, char **argv, struct exec_options *o)
{
	const char *v;
	int i = 0;
	for (; i < argc && !o->id; i++) {
		if (opt_value(argc, argv, &i, "--process", &o->process) ||
		    opt_value(argc, argv, &i, "-p", &o->process) ||
		    opt_value(argc, argv, &i, "--pid-file", &o->pid_file) ||
		    opt_value(argc, argv, &i, "--console-socket", &o->console) ||
		    opt_value(argc, argv, &i, "--cwd", &o->cwd) ||
		    opt_value(argc, argv, &i, "--user", &o->user) ||
		    opt_value(argc, argv, &i, "-u", &o->user) ||
		    // Labels and cgroups of the host process: the command runs in the VM.
		    opt_value(argc, argv, &i, "--process-label", &v) ||
		    opt_value(argc, argv, &i, "--apparmor", &v) ||
		    opt_value(argc, argv, &i, "--cgroup", &v))
			continue;
		if (opt_value(argc, argv, &i, "--env", &v) || opt_value(argc, argv, &i, "-e", &v)) {
			if (o->nenv == ARRAY_SIZE(o->env))
				return log_err(E2BIG, "exec: --env");
			o->env[o->nenv++] = v;
		} else if (opt_value(argc, argv, &i, "--preserve-fds", &v)) {
			if (strcmp(v, "0"))
				return log_err(
				    0, "exec: --preserve-fds %s: a host fd cannot enter the VM", v);
		} else if (opt_flag(argv[i], "--detach") || opt_flag(argv[i], "-d")) {
			o->detach = true;
		} else if (opt_flag(argv[i], "--tty") || opt_flag(argv[i], "-t")) {
			o->tty = true;
		} else if (opt_flag(argv[i], "--no-new-privs") ||
			   opt_flag(argv[i], "--ignore-paused")) {
			continue; // the exec'd process never gains capabilities its container lacks
		} else if (argv[i][0] == '-') {
			return log_err(0, "exec: %s: unknown option", argv[i]);
		} else {
			o->id = argv[i];
		}
	}
	o->cmd = argv + i;
	if (!o->id)
		return log_err(0, "exec: no container id given");
	if (!o->process && !*o->cmd)
		return log_err(0,
			       "exec: no command given (exec ID CMD [ARGS...], or --process FILE)");
	if (o->process && *o->cmd)
		return log_err(0, "exec: a command and --process %s: give one", o->process);
	return 0;
}

// The process to run, into b: --process's file, or the container's process with the options
// over it.
static int load_process(const struct exec_options *o, const struct oci_state *s, struct bundle *b)
{
	if (o->process) {
		char *text;
		size_t len;
		int r = file_read(o->process, PROCESS_JSON_MAX, &text, &len);
		if (r < 0) {
			memset(b, 0, sizeof(*b));
			return r;
		}
		r = bundle_parse_process(text, len, b);
		free(text);
		return r;
	}
	int r = bundle_load(s->bundle, b);
	for (unsigned i = 0; r == 0 && i < o->nenv; i++)
		r = config_set_env(&b->vm, o->env[i]);
	if (r < 0)
		return r;
	b->vm.argv = o->cmd;
	b->vm.tty = o->tty;
	if (o->cwd && o->cwd[0] != '/')
		return log_err(0, "exec: --cwd %s: not an absolute path", o->cwd);
	if (o->cwd)
		b->vm.workdir = o->cwd;
	if (o->user) { // numeric, as runc's: UID[:GID]
		char *end;
		unsigned long uid = strtoul(o->user, &end, 10), gid = 0;
		if (*end == ':')
			gid = strtoul(end + 1, &end, 10);
		if (*end || end == o->user || uid > UINT32_MAX || gid > UINT32_MAX)
			return log_err(0, "exec: --user %s: expected UID[:GID]", o->user);
		b->uid = (uint32_t)uid;
		b->gid = (uint32_t)gid;
		b->ngroups = 0;
	}
	return 0;
}

// The process's terminal: a pty whose master goes to the engine (--console-socket), or this
// process's own terminal. Its host end is raw: the guest's pty does the line discipline.
static int open_terminal(const struct exec_options *o, const struct bundle *b, struct console *con,
			 bool *own)
{
	*own = false;
	if (!o->console) {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
			return log_err(
			    0, "exec: a terminal needs --console-socket (or one of its own)");
		*own = true;
		return tty_raw() < 0 ? log_err(0, "exec: the terminal's raw mode") : 0;
	}
	int r = console_open(con, b->console_rows, b->console_cols);
	struct termios t;
	if (r == 0 && tcgetattr(con->slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(con->slave, TCSANOW, &t);
	}
	return r ?: console_send(con, o->console);
}

// The --detach'd host side: a child in a session of its own (the pty its controlling terminal,
// so a resize of the master reaches it as SIGWINCH) that waits for the status.
static pid_t detach(int s, bool tty)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old); // none lost before the child's signalfd is up
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		setsid();
		if (tty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
			log_debug("exec: the pty as controlling terminal: %s", strerror(errno));
		int st = enter_wait(s, tty ? STDIN_FILENO : -1);
		_exit(st < 0 ? EXIT_CLEARVM_FAILED : st);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		log_err(errno, "exec: fork");
	return pid;
}

int oci_exec(struct oci_globals *g, int argc, char **argv)
{
	static struct exec_options o;
	struct oci_state s;
	if (parse(argc, argv, &o) < 0 || state_read(g->root_dir, o.id, &s) < 0)
		return OCI_FAILED;
	enum oci_status st = state_status(&s);
	bool sandbox = bundle_annotations_sandbox(s.annotations);
	state_free(&s);
	// A pod's later container runs in the VM of the pod's first: the command goes there.
	bool pod = s.pod[0];
	char vm_dir[sizeof(s.dir)];
	snprintf(vm_dir, sizeof(vm_dir), "%s/%s", g->root_dir, pod ? s.pod : o.id);
	if (st != OCI_RUNNING)
		return log_err(0, "exec: container %s is %s, not running", o.id,
			       state_status_name(st)),
		       OCI_FAILED;
	if (sandbox) // it has no VM to run a process in (oci.c)
		return log_err(0, "exec: container %s is a pod's sandbox, which runs nothing: exec "
				  "into the pod's app containers", o.id),
		       OCI_FAILED;
	static struct bundle b;
	int r = load_process(&o, &s, &b);
	struct enter_request req;
	r = r ?: oci_enter_request(&b, pod ? o.id : "", &req);
	struct console con = {-1, -1};
	bool own_tty = false;
	if (r == 0 && b.vm.tty)
		r = open_terminal(&o, &b, &con, &own_tty);
	int sock = r < 0 ? -EBADF : oci_exec_connect(vm_dir);
	if (r == 0 && sock < 0)
		r = log_err(sock, "exec: container %s: its exec socket", o.id);
	if (own_tty && !tty_size(&req.rows, &req.cols))
		req.rows = req.cols = 0;
	else if (!own_tty) {
		req.rows = b.console_rows;
		req.cols = b.console_cols;
	}
	r = r ?: enter_send(sock, &req);
	// In the foreground, the pty's resizes reach this process if it can make the pty its
	// controlling terminal (not when it leads a process group of its own).
	if (r == 0 && !o.detach && o.console && setsid() >= 0 &&
	    ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
		log_debug("exec: the pty as controlling terminal: %s", strerror(errno));
	pid_t pid = r < 0 ? -1 : o.detach ? detach(sock, b.vm.tty) : getpid();
	char text[32];
	snprintf(text, sizeof(text), "%d", (int)pid);
	if (pid > 0 && o.pid_file && file_write(o.pid_file, text) < 0) {
		if (pid != getpid())
			kill(pid, SIGKILL); // its command goes with it
		pid = -1;
	}
	int status = pid < 0	? OCI_FAILED
		     : o.detach ? 0
				: enter_wait(sock, b.vm.tty ? STDIN_FILENO : -1);
	if (own_tty)
		tty_restore();
	bundle_free(&b);
	return status < 0 ? EXIT_CLEARVM_FAILED : status;
}
