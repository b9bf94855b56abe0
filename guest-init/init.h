// SPDX-License-Identifier: Apache-2.0
// Inside guest-init: what its rooms share. init.c is the order of things; report.c speaks to
// the VMM; ports.c finds the console ports; spec.c reads the launch spec; mounts.c and net.c
// set up the container's world; exec.c starts a workload; relay.c moves its stdio and reaps;
// enter.c serves rkt enter.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi.h"
#include "spec_read.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

// report.c
extern int err_fd;	// the stderr port once found, else the kernel log
extern bool milestones; // the launch spec asks for them (each is an exit to the VMM)
void milestone(unsigned char n);
// The status to the VMM, which stops the VM.
__attribute__((noreturn)) void report(int status);
// One line on the stderr port (or the kernel log).
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// "clearvm: guest-init: what: strerror(errno)", then ABI_STATUS_INIT_FAILED.
__attribute__((noreturn)) void fail(const char *what);

// ports.c: the port the VMM named `name`, opened with flags, waiting for the kernel to make it
// (-1 with errno when it does not come); ports_found() once every port is open.
int open_port(const char *name, int flags);
// The same for n ports at once (names[i] opened with flags[i] into fds[i]): 0 or -1.
int open_ports(const char *const *names, const int *flags, int *fds, unsigned n);
void ports_found(void);

// spec.c
void *read_spec(size_t *size);	   // from the initramfs
void *wait_for_spec(size_t *size); // a template boot: from the "spec" port, once restored
// A restored VM's clock and randomness from the spec: what failed, or NULL.
const char *apply_restore(const struct launch_spec *ls);

// mounts.c: the initramfs files bound over a root's /etc files, when the spec gave them.
extern const char *const etc_files[3];
extern bool etc_given[3];
void write_initramfs_file(const char *path, const char *text, const char *end);
void mount_share_root(const char *tag, bool readonly, bool virtiofs, const char *dir);
void mount_devpts(const char *dir);
void mount_basics(void);
void mount_root(const struct launch_workload *w);
void open_file_volumes(const struct launch_workload *w, int *trees);
int mount_volumes(const struct launch_volume *vols, size_t n, const int *trees);
// The pod share (ABI_POD_DIR), open, when the spec has one; else -1.
extern int pod_fd;
// A pod's later container's world, made under the pod share before its command runs, and
// taken down after (ABI_ENTER_CONTAINER). 0, or -1 (said).
int container_up(const char *name, const struct launch_volume *vols, size_t n);
void container_down(const char *name);

// net.c
void loopback_up(void);
void eth_up(const struct launch_net *e); // fails the run when eth0 cannot be set up

// exec.c
// One workload: a single container, or one app of a pod (with its own root under /apps).
struct identity {
	uid_t uid;
	gid_t gid;
	gid_t groups[LAUNCH_MAX_GROUPS];
	size_t ngroups;
};

struct workload {
	const char *name; // a pod's app: its name; else NULL
	char root[160];	  // a pod's app: where its root is mounted (a pod's later container: its
			  // name, relative to the pod share); else "" (PID 1's root)
	char **argv, **env;
	const char *cwd;
	struct identity id;
	char **pre_start; // run as root in its root before it (NULL: none)
	bool bound_caps;  // its capability bounding set is caps
	uint64_t caps;
	const struct launch_rlimit *rlimits; // set before it drops root
	size_t nrlimits;
	bool no_new_privs;
	pid_t pid;
	int status;   // -1 while it runs
	int errpipe;  // read end: an errno from the child when its exec failed
	bool stopped; // a pod's app sent SIGTERM because another app failed
};

int exit_status(int wstatus);
void load_workload(const struct launch_workload *lw, struct workload *w);
__attribute__((noreturn)) void child(const struct workload *w, int in, int out, int errfd, bool tty,
				     int errpipe);
int open_pty(uid_t owner, uint16_t rows, uint16_t cols, int out[2], int in[2]);

// mounts.c (needs struct workload)
void mount_apps(const struct launch_spec *ls, struct workload *ws);

// relay.c: one relay of a workload's (or a pod's) stdio until it has ended.
extern int sigchld_fd; // SIGCHLD, blocked, read here: a child's end wakes the relay
struct relay {
	struct workload *ws;
	unsigned n;
	bool pod;  // a pod's apps: each app's status goes to ABI_APP_EXIT_PORT; one failing stops
		   // the rest
	bool pid1; // PID 1: stops what the workloads left behind and, with enter, serves sessions
	bool enter; // PID 1 of a pod or an OCI container: enter sessions (rkt enter, OCI exec)
	int port_out, port_ctl, port_in; // stdout and control ports, stdin port (-1: none)
	int out_r, err_r, in_w;		 // the workload's stdout and stderr (read), stdin (written)
	bool tty;			 // out_r and in_w are both the pty's master
};
// Returns the status: the first non-zero one in the order they ended, else 0.
int relay_run(struct relay *r);

// enter.c: PID 1 of a pod or an OCI container serves enter sessions, each in a helper.
struct enter_session {
	int out, err, in; // its ports
	pid_t helper;	  // its helper, 0: none (the session is free)
	int control;	  // PID 1's end of the pipe carrying control messages to the helper
	char container[160]; // the pod's later container it runs (ABI_ENTER_CONTAINER), or ""
};
extern int enter_requests; // the "enter" port
extern struct enter_session enter_sessions[ABI_ENTER_SESSIONS];
// Finds the enter ports (before PID 1 leaves the root that has /sys).
void enter_open_ports(void);
void enter_read(void);
// Starts a helper for each complete request that has come.
void enter_start(struct workload *ws, unsigned n, bool pod);
// A child reaped: if it was a session's helper, its control pipe is closed and the session
// reported done (ABI_ENTER_DONE), free for the host's next request.
void enter_reaped(pid_t pid);
// An ABI_CONTROL_ENTER_* message, to its session's helper as its own kind.
void enter_control(struct abi_control m);
