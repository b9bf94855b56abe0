// SPDX-License-Identifier: Apache-2.0
// guest-init: PID 1 of every clearvm guest. Mounts the container's 9p root and the basics,
// reads the launch spec, runs the workload with its stdout and stderr on pipes relayed to
// the VMM's console ports, reaps every child, and reports the status through the exit port.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/random.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"
#include "spec_read.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define PORT_WAIT_MS 5000
#define POD_STOP_GRACE_S 10 // after a pod's app failed, how long the others get to end on SIGTERM

static int err_fd = -1; // the stderr port once found, else the kernel log
static int sigchld_fd = -1; // SIGCHLD, blocked, read here: a child's end wakes the relay
static bool milestones; // the launch spec asks for them (each is an exit to the VMM)

static void milestone(unsigned char n)
{
	if (milestones)
		outb(n, ABI_MILESTONE_PORT);
}

static __attribute__((noreturn)) void report(int status)
{
	sync(); // everything the workload wrote reaches the host before the VM stops
	outl((unsigned)status, ABI_EXIT_PORT);
	for (;;)
		pause();
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	int fd = err_fd >= 0 ? err_fd : open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, buf, (size_t)n) < 0) {
		// nowhere else to say it
	}
	if (fd != err_fd && fd >= 0)
		close(fd);
}

static __attribute__((noreturn)) void fail(const char *what)
{
	say("clearvm: guest-init: %s: %s", what, strerror(errno));
	report(ABI_STATUS_INIT_FAILED);
}

static void *read_spec(size_t *size)
{
	int fd = open(ABI_SPEC_PATH, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		fail("launch spec " ABI_SPEC_PATH);
	void *buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		fail("reading the launch spec");
	close(fd);
	*size = (size_t)st.st_size;
	return buf;
}

// Mounts fstype at target inside the new root when the rootfs has that directory; the
// rootfs is never written to make one.
static void mount_if_dir(const char *src, const char *target, const char *fstype,
			 unsigned long flags, const char *data)
{
	struct stat st;
	if (stat(target, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	if (mount(src, target, fstype, flags, data) < 0)
		say("clearvm: guest-init: mount %s on %s: %s", fstype, target, strerror(errno));
}

static const char p9_opts[] = "trans=virtio,version=9p2000.L,msize=524288,cache=mmap";

// The files of the initramfs bound over a root's /etc files of the same name, where the spec
// gave them (the hostname always).
static const char *const etc_files[] = {"hostname", "resolv.conf", "hosts"};
static bool etc_given[3] = {true, false, false};

// Mounts the 9p share `tag` at dir, with the initramfs's /hostname (and /resolv.conf and
// /hosts when given) bound over its regular files in /etc of those names, as docker shows
// them; the rootfs's own files are never written.
static void mount_share_root(const char *tag, bool readonly, const char *dir)
{
	char path[300], src[32];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fail("mkdir for a root");
	if (mount(tag, dir, "9p", readonly ? MS_RDONLY : 0, p9_opts) < 0)
		fail("mounting the container's root over 9p");
	for (size_t i = 0; i < ARRAY_LEN(etc_files); i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/etc/%s", dir, etc_files[i]);
		snprintf(src, sizeof(src), "/%s", etc_files[i]);
		if (etc_given[i] && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    mount(src, path, NULL, MS_BIND | MS_RDONLY, NULL) < 0)
			say("clearvm: guest-init: /etc/%s: %s", etc_files[i], strerror(errno));
	}
}

// A pty instance of its own at dir, which /dev/ptmx opens.
static void mount_devpts(const char *dir)
{
	mkdir(dir, 0755);
	mount_if_dir("devpts", dir, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
}

// What a container expects to find mounted, from inside its root (after chroot).
static void mount_basics(void)
{
	unsigned long nodev = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	mount_if_dir("proc", "/proc", "proc", nodev, NULL);
	mount_if_dir("sysfs", "/sys", "sysfs", nodev, NULL);
	mount_if_dir("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_devpts("/dev/pts");
	mkdir("/dev/shm", 01777);
	mount_if_dir("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_if_dir("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_if_dir("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	symlink("/proc/self/fd", "/dev/fd");
	symlink("/proc/self/fd/0", "/dev/stdin");
	symlink("/proc/self/fd/1", "/dev/stdout");
	symlink("/proc/self/fd/2", "/dev/stderr");
}

// Loopback networking, as docker's --net=none and rkt's pods have it: lo is up.
static void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
		say("clearvm: guest-init: bringing up lo: %s", strerror(errno));
	if (s >= 0)
		close(s);
}

// A file in the initramfs that is bound over a root's own (/hostname, /resolv.conf, /hosts).
static void write_initramfs_file(const char *path, const char *text, const char *end)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0 || write(fd, end, strlen(end)) < 0)
		fail(path);
	close(fd);
}

// A single container: its root becomes PID 1's root too.
static void mount_root(const struct launch_workload *w)
{
	mount_share_root(w->root_tag, w->root_readonly, "/newroot");
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		fail("switching to the container's root");
	mount_basics();
}

// mkdir -p inside the (new) root: a volume's mount point, made when the rootfs lacks it.
static int mkdir_p(const char *path)
{
	char buf[4096];
	if (strlen(path) >= sizeof(buf))
		return -1;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = c;
			if (!c)
				return 0;
		}
	}
}

// A workload's file volumes, before it enters its root: each share is mounted in the
// initramfs and its one file cloned into a detached mount, trees[i], to be moved onto the
// target from inside the root (-1 for directory volumes).
static void open_file_volumes(const struct launch_workload *w, int *trees)
{
	for (size_t i = 0; i < w->nvolumes; i++) {
		const struct launch_volume *v = &w->volumes[i];
		char dir[96], path[128];
		trees[i] = -1;
		if (!v->file)
			continue;
		snprintf(dir, sizeof(dir), "/clearvm/%s", v->tag);
		snprintf(path, sizeof(path), "%s/" ABI_FILE_VOLUME_ENTRY, dir);
		if ((mkdir("/clearvm", 0755) < 0 && errno != EEXIST) || (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
		    mount(v->tag, dir, "9p", v->readonly ? MS_RDONLY : 0, p9_opts) < 0 ||
		    (trees[i] = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)) < 0) {
			say("clearvm: guest-init: volume at %s: %s", v->target, strerror(errno));
			report(ABI_STATUS_INIT_FAILED);
		}
	}
}

// A file volume's mount point: its directory made and an empty file there if the root lacks
// one, as for a directory volume's.
static int make_file_target(const char *target)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", target);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir) < 0)
			return -1;
	}
	int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

// A workload's volumes, mounted from inside its root (trees: from open_file_volumes).
static void mount_volumes(const struct launch_workload *w, const int *trees)
{
	for (size_t i = 0; i < w->nvolumes; i++) {
		const struct launch_volume *v = &w->volumes[i];
		int r = v->file ? make_file_target(v->target) ?: move_mount(trees[i], "", AT_FDCWD, v->target,
									   MOVE_MOUNT_F_EMPTY_PATH)
				: mkdir_p(v->target) ?: mount(v->tag, v->target, "9p", v->readonly ? MS_RDONLY : 0, p9_opts);
		if (r < 0) {
			say("clearvm: guest-init: volume at %s: %s", v->target, strerror(errno));
			report(ABI_STATUS_INIT_FAILED);
		}
	}
}

// The kernel's uevents (a netlink socket, no udev): a port appearing (add) or getting the name
// the VMM gave it (change) wakes the wait for it, rather than a timer.
static int uevents = -1;

// The /dev node of the port named `name`, opened; -1 with ENOENT while there is none yet.
static int find_port(const char *name, int flags)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], buf[64] = {0};
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		if (!strcmp(buf, name)) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			closedir(d);
			return open(path, flags | O_CLOEXEC);
		}
	}
	if (d)
		closedir(d);
	errno = ENOENT;
	return -1;
}

// The /dev node of the virtio-console port the VMM named `name`, waiting (up to
// PORT_WAIT_MS) for the kernel to say it is there.
static int open_port(const char *name, int flags)
{
	if (uevents < 0) {
		struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
		uevents = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
		if (uevents < 0 || bind(uevents, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			fail("the kernel's uevent socket");
	}
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += PORT_WAIT_MS / 1000;
	for (;;) {
		int fd = find_port(name, flags); // after the socket: no event can fall between
		if (fd >= 0 || errno != ENOENT)
			return fd;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		struct pollfd p = {.fd = uevents, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) == 0)
			break;
		char buf[4096];
		while (recv(uevents, buf, sizeof(buf), 0) > 0)
			; // which event it was does not matter: the ports are looked at again
	}
	errno = ENODEV;
	return -1;
}

// A template boot (no spec in the initramfs): open the "spec" port and tell the VMM we are
// ready, which saves the VM right here. Only VMs restored from it go on: their spec comes on
// that port, to EOF.
static void *wait_for_spec(size_t *size)
{
	int fd = open_port("spec", O_RDONLY);
	if (fd < 0)
		fail("the spec port");
	outb(ABI_MILESTONE_TEMPLATE, ABI_MILESTONE_PORT);
	// The FDT says its own size (big-endian, bytes 4-7): read that much, or to EOF when the
	// host sends less.
	size_t cap = 65536, len = 0, want = SIZE_MAX;
	unsigned char *buf = malloc(cap);
	while (len < want) {
		if (!buf)
			fail("memory for the launch spec");
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("reading the launch spec");
		if (n == 0)
			break;
		len += (size_t)n;
		if (want == SIZE_MAX && len >= 8)
			want = (size_t)buf[4] << 24 | (size_t)buf[5] << 16 | (size_t)buf[6] << 8 | buf[7];
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	*size = len;
	return buf;
}

// A restored VM: the host's time (the guest's clock stopped when the template was saved), and
// fresh randomness (every VM from the template starts with the template's pool). Returns
// what failed, or NULL.
static const char *apply_restore(const struct launch_spec *ls)
{
	if (ls->realtime) {
		struct timespec ts = {.tv_sec = (time_t)(ls->realtime_ns / 1000000000),
				      .tv_nsec = (long)(ls->realtime_ns % 1000000000)};
		if (clock_settime(CLOCK_REALTIME, &ts) < 0)
			return "setting the clock";
	}
	if (!ls->seed_len)
		return NULL;
	struct {
		struct rand_pool_info info;
		unsigned char buf[256];
	} e;
	if (ls->seed_len > sizeof(e.buf))
		return "the random seed";
	e.info.entropy_count = (int)(ls->seed_len * 8);
	e.info.buf_size = (int)ls->seed_len;
	memcpy(e.buf, ls->seed, ls->seed_len);
	int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	const char *err = NULL;
	if (fd < 0 || ioctl(fd, RNDADDENTROPY, &e) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
		err = "reseeding the random pool";
	if (fd >= 0)
		close(fd);
	return err;
}

static int exit_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return ABI_STATUS_INIT_FAILED;
}

// One workload: a single container, or one app of a pod (with its own root under /apps).
struct identity {
	uid_t uid;
	gid_t gid;
	gid_t groups[LAUNCH_MAX_GROUPS];
	size_t ngroups;
};

struct workload {
	const char *name; // a pod's app: its name; else NULL
	char root[32];    // a pod's app: where its root is mounted; else "" (PID 1's root)
	char **argv, **env;
	const char *cwd;
	struct identity id;
	char **pre_start; // run as root in its root before it (NULL: none)
	bool bound_caps;  // its capability bounding set is caps
	uint64_t caps;
	pid_t pid;
	int status;  // -1 while it runs
	int errpipe; // read end: an errno from the child when its exec failed
	bool stopped; // a pod's app sent SIGTERM because another app failed
};

static void load_workload(const struct launch_workload *lw, struct workload *w)
{
	w->name = lw->name;
	w->argv = lw->argv;
	w->env = lw->env;
	w->cwd = lw->cwd;
	w->id.uid = lw->uid;
	w->id.gid = lw->gid;
	w->id.ngroups = lw->ngroups;
	memcpy(w->id.groups, lw->groups, lw->ngroups * sizeof(lw->groups[0]));
	w->pre_start = lw->pre_start;
	w->bound_caps = lw->bound_caps;
	w->caps = lw->caps;
	w->status = -1;
}

static int exec_status(int e)
{
	return e == ENOENT || e == ENOTDIR ? ABI_STATUS_NOT_FOUND : ABI_STATUS_CANNOT_EXEC;
}

// Keeps only the capabilities in keep (bit N: capability N) in the bounding and inheritable
// sets, so that no exec can gain another: for a root workload, what it runs with.
static int bound_capabilities(uint64_t keep)
{
	for (int c = 0; c < 64; c++) {
		if (keep >> c & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c) < 0) {
			if (errno == EINVAL) // past the kernel's last capability
				break;
			return -1;
		}
	}
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].inheritable &= (uint32_t)keep;
	d[1].inheritable &= (uint32_t)(keep >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

// An app's pre-start handler, as root in its root with its environment and stdio, as rkt runs
// it: its status (0: the app may start).
static int pre_start(const struct workload *w)
{
	pid_t pid = fork();
	if (pid == 0) {
		environ = w->env;
		if (chdir("/") == 0)
			execvp(w->pre_start[0], w->pre_start);
		_exit(exec_status(errno));
	}
	int ws;
	if (pid < 0 || waitpid(pid, &ws, 0) < 0)
		return ABI_STATUS_INIT_FAILED;
	int status = exit_status(ws);
	if (status)
		say("clearvm: guest-init: app %s: its pre-start handler %s ended with %d", w->name,
		    w->pre_start[0], status);
	return status;
}

// The workload's process: its root, stdio, identity, directory, then exec. An error before or
// at exec goes back to PID 1 through errpipe (close-on-exec, so success closes it empty) and
// becomes the exit status (127: not found, 126: cannot run).
// With a pty, in, out and errfd are all its slave side, which becomes the controlling terminal.
static __attribute__((noreturn)) void child(const struct workload *w, int in, int out, int errfd,
					    bool tty, int errpipe)
{
	if (in < 0)
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		in = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = 0;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); // PID 1 blocks SIGCHLD for its signalfd; a workload does not
	setsid();
	if (w->root[0] && (chroot(w->root) < 0 || chdir("/") < 0))
		e = errno;
	if (!e && tty && ioctl(in, TIOCSCTTY, 0) < 0)
		e = errno;
	if (!e && (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0))
		e = errno;
	umask(022);
	int handler = !e && w->pre_start ? pre_start(w) : 0;
	if (handler)
		_exit(handler); // errpipe closes empty: the app's status is the handler's
	if (!e && w->bound_caps && bound_capabilities(w->caps) < 0)
		e = errno;
	if (!e && (setgroups(w->id.ngroups, w->id.groups) < 0 || setgid(w->id.gid) < 0 ||
		   setuid(w->id.uid) < 0))
		e = errno;
	if (!e && chdir(w->cwd) < 0)
		e = errno;
	if (!e) {
		environ = w->env;
		execvp(w->argv[0], w->argv);
		e = errno;
	}
	if (write(errpipe, &e, sizeof(e)) < 0) {
		// the parent sees EOF and reports a generic failure
	}
	_exit(exec_status(e));
}

// A pty for the workload: master for PID 1 (out[0] reads what the workload writes, in[1] takes
// its input), slave for the workload (out[1] and in[0]), sized as the host's terminal (rows
// and cols 0: unknown). 0, or -1 with errno.
static int open_pty(uid_t owner, uint16_t rows, uint16_t cols, int out[2], int in[2])
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		return -1;
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return -1;
	if (fchown(slave, owner, (gid_t)-1) < 0)
		say("clearvm: guest-init: pty owner: %s", strerror(errno));
	if (rows && cols) {
		struct winsize ws = {.ws_row = rows, .ws_col = cols};
		ioctl(master, TIOCSWINSZ, &ws);
	}
	out[0] = master;
	out[1] = slave;
	in[0] = slave;
	in[1] = master;
	return 0;
}

// Acts on complete control messages in buf[0..*len), keeping a partial one for later.
static void control(unsigned char *buf, size_t *len, const struct workload *ws, unsigned n, int tty_fd)
{
	size_t off = 0;
	for (; *len - off >= sizeof(struct abi_control); off += sizeof(struct abi_control)) {
		struct abi_control m;
		memcpy(&m, buf + off, sizeof(m));
		for (unsigned i = 0; m.kind == ABI_CONTROL_SIGNAL && i < n; i++)
			if (ws[i].status < 0) // forwarded by the host: SIGINT, SIGTERM, SIGHUP, SIGKILL
				kill(ws[i].pid, m.signal);
		if (m.kind == ABI_CONTROL_RESIZE && tty_fd >= 0) {
			struct winsize wsz = {.ws_row = m.rows, .ws_col = m.cols};
			ioctl(tty_fd, TIOCSWINSZ, &wsz); // the kernel sends SIGWINCH to the foreground group
		}
	}
	memmove(buf, buf + off, *len - off);
	*len -= off;
}

// Records a reaped workload's status (returned; -1 when pid was none of them); a pod's app's
// is told to the VMM at once.
static int reaped(struct workload *ws, unsigned n, pid_t pid, int wstatus, bool pod)
{
	for (unsigned i = 0; i < n; i++) {
		if (ws[i].pid != pid || ws[i].status >= 0)
			continue;
		ws[i].status = exit_status(wstatus);
		// Stopped because another app failed, and ended by that: stopped cleanly, 0, as
		// rkt's own stage1 reports it (its own failure, or another signal, stays).
		if (ws[i].stopped && WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGTERM)
			ws[i].status = 0;
		int e = 0;
		if (read(ws[i].errpipe, &e, sizeof(e)) == (ssize_t)sizeof(e))
			say("clearvm: %s: %s", ws[i].argv[0], strerror(e));
		close(ws[i].errpipe);
		if (pod)
			outl(i << 16 | (unsigned)ws[i].status, ABI_APP_EXIT_PORT);
		return ws[i].status;
	}
	return -1;
}

// rkt enter (pods only): requests come on the "enter" port (struct abi_enter_header, then
// NUL-terminated strings: the app's name, argc arguments, then KEY=VALUE environment); one
// session at a time runs in a helper process, whose command's stdio goes through the
// enter-stdout/-stderr/-stdin ports and whose status goes to ABI_ENTER_EXIT_PORT.
static int enter_ports[4] = {-1, -1, -1, -1}; // request, stdout, stderr, stdin
static pid_t enter_helper = -1;
static unsigned char enter_buf[sizeof(struct abi_enter_header) + ABI_ENTER_MAX];
static size_t enter_len;

static int relay(struct workload *ws, unsigned n, bool pod, bool pid1, int port_out, int port_ctl,
		 int port_in, int out_r, int err_r, int in_w, bool tty);

static void enter_read(void)
{
	ssize_t got = read(enter_ports[0], enter_buf + enter_len, sizeof(enter_buf) - enter_len);
	if (got > 0)
		enter_len += (size_t)got;
}

// Splits a request's strings; false when it is malformed. argv and env point into buf.
static bool enter_parse(unsigned char *buf, size_t len, unsigned argc, const char **app, char **argv,
			char **env, size_t max)
{
	size_t i = 0, k = 0, e = 0;
	const char *strs[ABI_ENTER_MAX_STRINGS];
	while (i < len && k < ABI_ENTER_MAX_STRINGS) {
		unsigned char *nul = memchr(buf + i, '\0', len - i);
		if (!nul)
			return false;
		strs[k++] = (const char *)buf + i;
		i = (size_t)(nul - buf) + 1;
	}
	if (i != len || k < 1 + argc || argc == 0 || argc >= max || k - 1 - argc >= max)
		return false;
	*app = strs[0];
	for (unsigned a = 0; a < argc; a++)
		argv[a] = (char *)strs[1 + a];
	argv[argc] = NULL;
	for (size_t j = 1 + argc; j < k; j++)
		env[e++] = (char *)strs[j];
	env[e] = NULL;
	return true;
}

// The helper: runs the command in the app's root as root, relays its stdio, reports its status,
// then reads the stdin port to the EOF the host sends once it has the status, so nothing of
// this session is left for the next.
static __attribute__((noreturn)) void enter_session(const struct abi_enter_header *h, const unsigned char *req,
						    const struct workload *ws, unsigned n)
{
	size_t size = h->size;
	unsigned argc = h->argc;
	bool tty = h->flags & ABI_ENTER_TTY;
	static unsigned char strings[ABI_ENTER_MAX];
	static char *argv[ABI_ENTER_MAX_STRINGS], *env[ABI_ENTER_MAX_STRINGS];
	memcpy(strings, req, size);
	err_fd = enter_ports[2];
	const char *app = NULL;
	struct workload cmd = {.cwd = "/", .status = -1, .argv = argv, .env = env};
	int status = ABI_STATUS_INIT_FAILED;
	if (!enter_parse(strings, size, argc, &app, argv, env, ABI_ENTER_MAX_STRINGS)) {
		say("clearvm: guest-init: a malformed enter request");
	} else {
		unsigned i = 0;
		while (i < n && strcmp(ws[i].name, app))
			i++;
		if (i == n) {
			say("clearvm: enter: no app named %s in this pod", app);
		} else {
			memcpy(cmd.root, ws[i].root, sizeof(cmd.root));
			int outp[2], errp[2] = {-1, -1}, inp[2], execp[2];
			struct stat st;
			if (tty && stat("/dev/pts/ptmx", &st) < 0) // the pod's first terminal
				mount_devpts("/dev/pts");
			if ((tty && open_pty(0, h->rows, h->cols, outp, inp) < 0) ||
			    (!tty && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(inp, O_CLOEXEC) < 0)) ||
			    pipe2(execp, O_CLOEXEC) < 0 || fcntl(inp[1], F_SETFL, O_NONBLOCK) < 0 ||
			    (cmd.pid = fork()) < 0) {
				say("clearvm: guest-init: enter: %s", strerror(errno));
			} else {
				if (cmd.pid == 0)
					child(&cmd, inp[0], outp[1], tty ? outp[1] : errp[1], tty, execp[1]);
				close(outp[1]); // with a tty, the slave
				if (!tty) {
					close(errp[1]);
					close(inp[0]);
				}
				close(execp[1]);
				cmd.errpipe = execp[0];
				status = relay(&cmd, 1, false, false, enter_ports[1], -1, dup(enter_ports[3]),
					       outp[0], errp[0], inp[1], tty);
			}
		}
	}
	outl((unsigned)status, ABI_ENTER_EXIT_PORT);
	char sink[4096];
	struct pollfd in = {.fd = enter_ports[3], .events = POLLIN};
	while (poll(&in, 1, -1) >= 0) {
		ssize_t got = read(enter_ports[3], sink, sizeof(sink));
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	_exit(0);
}

// Starts a session for the next complete request, if any.
static void enter_start(struct workload *ws, unsigned n)
{
	struct abi_enter_header h;
	if (enter_len < sizeof(h))
		return;
	memcpy(&h, enter_buf, sizeof(h));
	if (h.size > ABI_ENTER_MAX) { // a broken stream: nothing after it can be trusted
		enter_len = 0;
		return;
	}
	size_t total = sizeof(h) + h.size;
	if (enter_len < total)
		return;
	enter_helper = fork();
	if (enter_helper == 0)
		enter_session(&h, enter_buf + sizeof(h), ws, n);
	if (enter_helper < 0)
		say("clearvm: guest-init: enter: fork: %s", strerror(errno));
	memmove(enter_buf, enter_buf + total, enter_len - total);
	enter_len -= total;
}

// Relays the workload's output (out_r, err_r) to its ports and the stdin port to in_w until
// the workload ends; then stops whatever it left behind (as docker does) and drains what is
// still buffered. With a tty, out_r and in_w are both the pty's master. Returns the status.
// PID 1 (pid1) also stops what the workloads left behind and, in a pod, serves enter requests.
static int relay(struct workload *ws, unsigned n, bool pod, bool pid1, int port_out, int port_ctl,
		 int port_in, int out_r, int err_r, int in_w, bool tty)
{
	int status = -1; // all ended: the first non-zero status in the order they ended, else 0
	int first_failure = -1;
	struct pollfd fds[7] = {{.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN},
				{.fd = port_ctl, .events = POLLIN}, {.fd = port_in, .events = POLLIN},
				{.fd = -1, .events = POLLOUT}, {.fd = -1, .events = POLLIN},
				{.fd = sigchld_fd, .events = POLLIN}};
	int dst[2] = {port_out, err_fd};
	static char buf[65536], inbuf[16384];
	static unsigned char ctl[64];
	size_t inlen = 0, inoff = 0, ctllen = 0;
	bool killed = false;
	struct timespec pod_kill_at = {0}; // a pod whose app failed: when the others get SIGKILL
	for (;;) {
		int wstatus;
		pid_t w;
		while ((w = waitpid(-1, &wstatus, WNOHANG)) > 0) {
			int st = reaped(ws, n, w, wstatus, pod);
			if (st > 0 && first_failure < 0) {
				first_failure = st;
				// As rkt's own stage1 does: an app that fails stops the pod. The others
				// get SIGTERM, and SIGKILL if they are still there 10 s later.
				for (unsigned i = 0; pod && i < n; i++)
					if (ws[i].status < 0) {
						ws[i].stopped = true;
						kill(ws[i].pid, SIGTERM);
					}
				clock_gettime(CLOCK_MONOTONIC, &pod_kill_at);
				pod_kill_at.tv_sec += POD_STOP_GRACE_S;
			}
			if (w == enter_helper) {
				enter_helper = -1;
				outl(ABI_ENTER_DONE, ABI_ENTER_EXIT_PORT); // the next session may start
			}
		}
		bool over = true;
		for (unsigned i = 0; i < n; i++)
			over = over && ws[i].status >= 0;
		if (pod && !over && pod_kill_at.tv_sec) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			for (unsigned i = 0; now.tv_sec >= pod_kill_at.tv_sec && i < n; i++)
				if (ws[i].status < 0)
					kill(ws[i].pid, SIGKILL);
		}
		if (over)
			status = first_failure > 0 ? first_failure : 0;
		if (status >= 0 && !killed && pid1) {
			kill(-1, SIGKILL);
			killed = true;
		}
		if (fds[0].fd < 0 && fds[1].fd < 0 && status >= 0)
			break;
		if (status >= 0 && in_w >= 0) { // nobody reads stdin any more
			if (!tty)
				close(in_w);
			in_w = -1;
		}
		// stdin: read the port only when the workload has taken what came before.
		fds[3].fd = status < 0 && inlen == inoff ? port_in : -1;
		fds[4].fd = status < 0 && inlen > inoff ? in_w : -1;
		fds[5].fd = pid1 && pod && status < 0 ? enter_ports[0] : -1;
		// Woken by output, input, a request, or SIGCHLD; the one timer is the pod's SIGKILL.
		int timeout = -1;
		if (pod && !over && pod_kill_at.tv_sec) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			timeout = (int)MAX(0, (pod_kill_at.tv_sec - now.tv_sec) * 1000 +
						      (pod_kill_at.tv_nsec - now.tv_nsec) / 1000000 + 1);
		}
		int r = poll(fds, 7, timeout);
		if (r < 0 && errno != EINTR)
			fail("poll");
		if (fds[6].revents & POLLIN) { // the children are reaped at the top of the loop
			struct signalfd_siginfo si;
			while (read(sigchld_fd, &si, sizeof(si)) > 0)
				;
		}
		if (fds[5].fd >= 0 && (fds[5].revents & POLLIN))
			enter_read();
		if (pid1 && pod && status < 0 && enter_helper < 0)
			enter_start(ws, n);
		if (fds[2].fd >= 0 && (fds[2].revents & POLLIN)) {
			ssize_t got = read(port_ctl, ctl + ctllen, sizeof(ctl) - ctllen);
			if (got > 0 && status < 0) {
				ctllen += (size_t)got;
				control(ctl, &ctllen, ws, n, tty ? out_r : -1);
			}
		}
		if (fds[3].fd >= 0 && (fds[3].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(port_in, inbuf, sizeof(inbuf));
			if (got > 0) {
				inlen = (size_t)got;
				inoff = 0;
			} else if (got == 0 || errno != EAGAIN) { // the host closed stdin: EOF
				close(port_in);
				port_in = -1;
				if (!tty) // a terminal has no EOF of its own: the pty stays open
					close(in_w);
				in_w = tty ? in_w : -1;
			}
		}
		if (fds[4].fd >= 0 && (fds[4].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t put = write(in_w, inbuf + inoff, inlen - inoff);
			if (put > 0)
				inoff += (size_t)put;
			else if (put < 0 && errno != EAGAIN) // the workload closed its stdin
				inoff = inlen;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(fds[i].fd, buf, sizeof(buf));
			if (got <= 0) { // EOF, or EIO from a pty master nobody holds the slave of
				close(fds[i].fd);
				fds[i].fd = -1;
				continue;
			}
			for (ssize_t off = 0; off < got;) {
				ssize_t wr = write(dst[i], buf + off, (size_t)(got - off));
				if (wr < 0 && errno != EINTR)
					break;
				off += wr > 0 ? wr : 0;
			}
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return status;
}

// A pod: each app's root at /apps/N, with the basics and its volumes mounted from inside it
// (a child chrooted there, so its symlinks resolve as the app will see them).
static void mount_apps(const struct launch_spec *ls, struct workload *ws)
{
	mkdir("/apps", 0755);
	for (unsigned i = 0; i < ls->napps; i++) {
		const struct launch_workload *lw = &ls->apps[i];
		struct workload *w = &ws[i];
		snprintf(w->root, sizeof(w->root), "/apps/%u", i);
		mount_share_root(lw->root_tag, lw->root_readonly, w->root);
		int trees[LAUNCH_MAX_VOLUMES];
		open_file_volumes(lw, trees);
		pid_t pid = fork();
		if (pid < 0)
			fail("fork");
		if (pid == 0) {
			if (chroot(w->root) < 0 || chdir("/") < 0)
				fail("entering an app's root");
			mount_basics();
			mount_volumes(lw, trees);
			_exit(0);
		}
		for (size_t v = 0; v < lw->nvolumes; v++)
			if (trees[v] >= 0)
				close(trees[v]);
		int wstatus;
		if (waitpid(pid, &wstatus, 0) < 0 || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus))
			report(ABI_STATUS_INIT_FAILED); // the child said why
		load_workload(lw, w);
	}
}

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
	static const char *const enter_names[4] = {"enter", "enter-stdout", "enter-stderr", "enter-stdin"};
	static const int enter_flags[4] = {O_RDONLY | O_NONBLOCK, O_WRONLY, O_WRONLY, O_RDONLY | O_NONBLOCK};
	unsigned n = ls.napps;
	bool pod = ls.pod;
	for (int i = 0; i < 4 && pod; i++)
		if ((enter_ports[i] = open_port(enter_names[i], enter_flags[i])) < 0)
			fail("finding the enter ports");
	int port_in = -1;
	if (ls.stdin && (port_in = open_port("stdin", O_RDONLY | O_NONBLOCK)) < 0)
		fail("the stdin port");

	close(uevents); // every port is found
	uevents = -1;
	const char *hostname = ls.hostname;
	if (sethostname(hostname, strlen(hostname)) < 0)
		fail("sethostname");
	loopback_up();
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
		mount_volumes(&ls.apps[0], trees);
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
	report(relay(ws, n, pod, true, port_out, port_ctl, port_in, outp[0], errp[0], inp[1], tty));
}
