// SPDX-License-Identifier: Apache-2.0
// guest-init: PID 1 of every clearvm guest. Mounts the container's 9p root and the basics,
// reads the launch spec, runs the workload with its stdout and stderr on pipes relayed to
// the VMM's console ports, reaps every child, and reports the status through the exit port.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

int main(void)
{
	if (getpid() != 1)
		return 1;
	mkdir("/dev", 0755);
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, NULL);
	// The kernel found no /dev/console to give us: fds 0-2 start closed. Fill them, so that no
	// port or pipe opened below lands there and gets overwritten when the workload's stdio is set.
	int null;
	while ((null = open("/dev/null", O_RDWR)) >= 0 && null < 3)
		;
	if (null > 2)
		close(null);
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (ioperm(ABI_EXIT_PORT, ABI_ENTER_EXIT_PORT + 4 - ABI_EXIT_PORT, 1) < 0)
		return 1; // without the exit port there is no one to tell; the VMM times out
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigchld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigchld_fd < 0)
		fail("signalfd");
	// The ports every run needs, then the spec (which says whether to send milestones): a
	// template is saved with them open, so a VM restored from it has that much done.
	int port_out = open_port("stdout", O_WRONLY);
	err_fd = open_port("stderr", O_WRONLY);
	int port_ctl = open_port("control", O_RDONLY | O_NONBLOCK);
	if (port_out < 0 || err_fd < 0 || port_ctl < 0)
		fail("finding the console ports");
	size_t spec_size;
	void *fdt = access(ABI_SPEC_PATH, F_OK) == 0 ? read_spec(&spec_size) : wait_for_spec(&spec_size);
	static struct launch_spec ls;
	const char *bad;
	int sr = launch_spec_read(fdt, spec_size, ABI_MAX_APPS, &ls, &bad);
	const char *restore_err = sr == 0 ? apply_restore(&ls) : NULL;
	milestones = sr == 0 && ls.milestones;
	milestone(ABI_MILESTONE_INIT);
	if (sr < 0) { // said once the stderr port can carry it
		errno = -sr;
		fail(bad);
	}
	if (restore_err)
		fail(restore_err);
	// Found through /sys while PID 1 still sees it.
	unsigned n = ls.napps;
	bool pod = ls.pod, enter = pod || ls.exec;
	if (enter)
		enter_open_ports();
	int port_in = -1;
	if (ls.stdin && (port_in = open_port("stdin", O_RDONLY | O_NONBLOCK)) < 0)
		fail("the stdin port");

	ports_found();
	const char *hostname = ls.hostname;
	if (sethostname(hostname, strlen(hostname)) < 0)
		fail("sethostname");
	loopback_up();
	if (ls.net)
		eth_up(&ls.eth);
	write_initramfs_file("/hostname", hostname, "\n");
	const char *const etc_text[] = {NULL, ls.resolv_conf, ls.hosts}; // after the hostname
	for (size_t i = 1; i < ARRAY_LEN(etc_files); i++) {
		char path[32];
		snprintf(path, sizeof(path), "/%s", etc_files[i]);
		if ((etc_given[i] = etc_text[i] != NULL))
			write_initramfs_file(path, etc_text[i], "");
	}
	umount("/sys");
	static struct workload ws[ABI_MAX_APPS];
	if (pod) {
		mount_apps(&ls, ws);
	} else {
		int trees[LAUNCH_MAX_VOLUMES];
		load_workload(&ls.apps[0], &ws[0]);
		open_file_volumes(&ls.apps[0], trees);
		mount_root(&ls.apps[0]);
		if (mount_volumes(ls.apps[0].volumes, ls.apps[0].nvolumes, trees) < 0)
			report(ABI_STATUS_INIT_FAILED);
		for (size_t v = 0; v < ls.apps[0].nvolumes; v++)
			if (trees[v] >= 0)
				close(trees[v]);
	}
	milestone(ABI_MILESTONE_ROOT);

	// The workloads' stdio: pipes (out, err, and in with -i), or one pty for all three; in a
	// pod all apps write to the same pipes and only the first reads stdin or has the pty.
	bool tty = ls.tty;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1};
	if (tty && pod) // PID 1 stays in the initramfs, whose /dev has no pty instance yet
		mount_devpts("/dev/pts");
	if (tty) {
		if (open_pty(ws[0].id.uid, ls.tty_size ? ls.tty_rows : 0, ls.tty_size ? ls.tty_cols : 0, outp, inp) < 0)
			fail("opening a pty");
	} else if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		fail("pipe");
	}
	if (port_in >= 0 && ((!tty && pipe2(inp, O_CLOEXEC) < 0) || fcntl(inp[1], F_SETFL, O_NONBLOCK) < 0))
		fail("the stdin pipe");
	milestone(ABI_MILESTONE_EXEC);
	for (unsigned i = 0; i < n; i++) {
		int execp[2];
		if (pipe2(execp, O_CLOEXEC) < 0)
			fail("pipe");
		ws[i].pid = fork();
		if (ws[i].pid < 0)
			fail("fork");
		if (ws[i].pid == 0)
			child(&ws[i], i == 0 ? inp[0] : -1, outp[1], tty ? outp[1] : errp[1], tty && i == 0,
			      execp[1]);
		close(execp[1]);
		ws[i].errpipe = execp[0];
	}
	close(outp[1]); // with a tty, the slave: the master reports EIO once the workload's side is gone
	if (!tty) {
		close(errp[1]);
		if (inp[0] >= 0)
			close(inp[0]);
	}
	struct relay rl = {.ws = ws, .n = n, .pod = pod, .enter = enter, .pid1 = true, .port_out = port_out, .port_ctl = port_ctl,
			   .port_in = port_in, .out_r = outp[0], .err_r = errp[0], .in_w = inp[1], .tty = tty};
	report(relay_run(&rl));
}
