// SPDX-License-Identifier: Apache-2.0
// seccomp: once set up, each thread role runs under its own allowlist (libseccomp). A
// system call outside it kills the whole process (--seccomp=log only logs it, --seccomp=off
// skips the filters). ioctl is allowed only for the requests the role makes.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "seccomp.h"
#include "../util.h"

struct rule {
	int nr;
	// why the role needs it (the reason is the documentation: keep it next to the number)
	const char *why;
};

// Every role: memory, time, threads and leaving.
static const struct rule common[] = {
	{SCMP_SYS(read), "eventfd, signalfd, pipes, files"},
	{SCMP_SYS(write), "stdout/stderr and console ports, logs"},
	{SCMP_SYS(close), "fds of finished requests and sessions"},
	{SCMP_SYS(futex), "mutexes and condition variables"},
	{SCMP_SYS(mmap), "malloc"},
	{SCMP_SYS(munmap), "free, thread stacks at join"},
	{SCMP_SYS(mprotect), "malloc arenas"},
	{SCMP_SYS(brk), "malloc"},
	{SCMP_SYS(madvise), "free (glibc trims arenas), the balloon gives pages back"},
	{SCMP_SYS(mremap), "realloc of large blocks"},
	{SCMP_SYS(clock_gettime), "timestamps (vDSO fallback)"},
	{SCMP_SYS(clock_nanosleep), "short waits"},
	{SCMP_SYS(nanosleep), "short waits"},
	{SCMP_SYS(getpid), "glibc (raise, abort)"},
	{SCMP_SYS(gettid), "glibc (raise, abort)"},
	{SCMP_SYS(tgkill), "pthread_kill (stopping vCPUs), abort"},
	{SCMP_SYS(rt_sigprocmask), "glibc around signals and thread exit"},
	{SCMP_SYS(rt_sigreturn), "return from the SIGUSR1 kick"},
	{SCMP_SYS(sched_yield), "glibc spin locks"},
	{SCMP_SYS(restart_syscall), "interrupted sleeps"},
	{SCMP_SYS(exit), "a thread ends"},
	{SCMP_SYS(exit_group), "the process ends"},
	{SCMP_SYS(fstat), "stdio buffers"},
	{SCMP_SYS(newfstatat), "stdio buffers, files"},
	{SCMP_SYS(lseek), "stdio"},
	{SCMP_SYS(getrandom), "malloc's tcache"},
};

// vCPU threads run KVM and the devices' MMIO and port handlers, no file system call: what a
// port write asks of the file system goes to the I/O thread; the file servers run on threads
// of their own (below).
static const struct rule vcpu[] = {
	{SCMP_SYS(fallocate), "the balloon punches reported pages out of guest RAM"},
};

// A file server thread: its share (and the fd directory) is all its mount namespace holds when
// run as root; walks stay beneath the share by openat2 either way.
static const struct rule p9[] = {
	{SCMP_SYS(openat), "a fid's file opened anew through the fd directory"},
	{SCMP_SYS(openat2), "walks and creates with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS"},
	{SCMP_SYS(fstatfs), "statfs"},
	{SCMP_SYS(getdents64), "readdir"},
	{SCMP_SYS(pread64), "read"},
	{SCMP_SYS(pwrite64), "write"},
	{SCMP_SYS(readlinkat), "readlink"},
	{SCMP_SYS(mkdirat), "mkdir"},
	{SCMP_SYS(mknodat), "mknod of fifos and sockets (device nodes are refused before)"},
	{SCMP_SYS(unlinkat), "unlink and rmdir"},
	{SCMP_SYS(renameat), "rename"},
	{SCMP_SYS(renameat2), "virtio-fs rename with RENAME_NOREPLACE or RENAME_EXCHANGE"},
	{SCMP_SYS(linkat), "link"},
	{SCMP_SYS(symlinkat), "symlink"},
	{SCMP_SYS(fchmodat), "setattr mode, through the fd directory"},
	{SCMP_SYS(fchownat), "setattr owner, new files' owner"},
	{SCMP_SYS(utimensat), "setattr times"},
	{SCMP_SYS(ftruncate), "setattr size"},
	{SCMP_SYS(fallocate), "fallocate"},
	{SCMP_SYS(copy_file_range), "virtio-fs copy between two open files"},
	{SCMP_SYS(fsync), "fsync"},
	{SCMP_SYS(fdatasync), "fsync (datasync)"},
	{SCMP_SYS(fcntl), "OFD locks, fd flags"},
	{SCMP_SYS(getxattr), "user.* xattrs, through the fd directory"},
	{SCMP_SYS(setxattr), "user.* xattrs, through the fd directory"},
	{SCMP_SYS(listxattr), "user.* xattrs, through the fd directory"},
	{SCMP_SYS(removexattr), "user.* xattrs, through the fd directory"},
	{SCMP_SYS(geteuid), "rootless owner mapping; chown only as root"},
	{SCMP_SYS(getegid), "rootless owner mapping"},
};

// The I/O thread: stdin, signals, the terminal's size, enter sessions (rkt enter, OCI exec;
// their signals come by read), the rkt stage1's status files, and the network card's frames
// to and from its backend (read and write).
static const struct rule io[] = {
	{SCMP_SYS(openat), "stage1: rkt/status/APP written"},
	{SCMP_SYS(rename), "stage1: rkt/status/APP renamed into place"},
	{SCMP_SYS(unlink), "stage1: supervisor-status replaced"},
	{SCMP_SYS(symlink), "stage1: supervisor-status -> ready"},
	{SCMP_SYS(io_uring_enter), "its one wait: readiness watches (a ring restricted to polls)"},
	{SCMP_SYS(accept4), "rkt enter: a new session"},
	{SCMP_SYS(recvmsg), "rkt enter: the request and the client's stdio fds"},
	{SCMP_SYS(getsockopt), "rkt enter: the client's uid (SO_PEERCRED)"},
	{SCMP_SYS(geteuid), "rkt enter: the client's uid must be root or ours"},
};

// The main thread once the VM runs: waits, stops the threads, reports, tears down.
static const struct rule main_rules[] = {
	{SCMP_SYS(openat), "--stats-json file, /proc/self/smaps and status for the trace"},
	{SCMP_SYS(pidfd_open), "network: waiting for passt to end"},
	{SCMP_SYS(poll), "network: waiting for passt to end, for at most a second"},
	{SCMP_SYS(kill), "network: passt that did not end"},
	{SCMP_SYS(wait4), "network: passt reaped"},
};

static int add_rules(scmp_filter_ctx ctx, const struct rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 0);
		if (e < 0)
			return e;
	}
	return 0;
}

// ioctl only with the requests the role makes, on any fd (the fds themselves are checked by
// the kernel: KVM_RUN on anything but a vCPU fails).
static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					 SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)req[i]));
		if (e < 0)
			return e;
	}
	return 0;
}

int seccomp_enter(enum seccomp_role role, enum seccomp_mode mode)
{
	if (mode == SECCOMP_OFF)
		return 0;
	static const unsigned long vcpu_ioctls[] = {
		KVM_RUN,      // the vCPU loop
		KVM_IRQ_LINE, // devices raise their interrupt
		// the network card's driver ready, or reset: the tap's offloads, vhost's rings
		TUNSETOFFLOAD, VHOST_GET_FEATURES, VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE,
		VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE, VHOST_SET_VRING_ADDR,
		VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_NET_SET_BACKEND,
	};
	static const unsigned long p9_ioctls[] = {
		KVM_IRQ_LINE, // a reply is ready
	};
	static const unsigned long io_ioctls[] = {
		TIOCGWINSZ,   // -t: the terminal's size after SIGWINCH
		KVM_IRQ_LINE, // the console interrupts the guest when stdin or a control message arrives
		TUNGETIFF,    // vhost-net: whether the tap still exists
	};
	static const unsigned long main_ioctls[] = {
		TCSETS, TCSETSW, TCSETSF, TCGETS, // -it: the terminal back to how it was
		VHOST_NET_SET_BACKEND,		  // vhost-net: the tap detached at the end
	};
	scmp_filter_ctx ctx = seccomp_init(mode == SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return log_err(ENOMEM, "seccomp");
	int r = add_rules(ctx, common, ARRAY_SIZE(common));
	switch (role) {
	case SECCOMP_VCPU:
		r = r ?: add_rules(ctx, vcpu, ARRAY_SIZE(vcpu));
		r = r ?: add_ioctls(ctx, vcpu_ioctls, ARRAY_SIZE(vcpu_ioctls));
		break;
	case SECCOMP_P9:
		r = r ?: add_rules(ctx, p9, ARRAY_SIZE(p9));
		r = r ?: add_ioctls(ctx, p9_ioctls, ARRAY_SIZE(p9_ioctls));
		break;
	case SECCOMP_IO:
		r = r ?: add_rules(ctx, io, ARRAY_SIZE(io));
		r = r ?: add_ioctls(ctx, io_ioctls, ARRAY_SIZE(io_ioctls));
		break;
	case SECCOMP_MAIN:
		r = r ?: add_rules(ctx, main_rules, ARRAY_SIZE(main_rules));
		r = r ?: add_ioctls(ctx, main_ioctls, ARRAY_SIZE(main_ioctls));
		break;
	}
	r = r ?: seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return log_err(-r, "seccomp filter");
	// A hidden test hook: the named role tries a call no role is allowed, and must die of it.
	const char *t = getenv("CLEARVM_TEST_SECCOMP_VIOLATION");
	static const char *const names[] = {[SECCOMP_VCPU] = "vcpu", [SECCOMP_IO] = "io", [SECCOMP_MAIN] = "main",
					   [SECCOMP_P9] = "p9"};
	if (t && !strcmp(t, names[role]))
		syscall(SYS_getppid); // harmless when --seccomp=log lets it through
	return 0;
}
