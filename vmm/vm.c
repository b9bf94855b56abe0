// SPDX-License-Identifier: Apache-2.0
// vm_build(): the one linear recipe from nothing to a VM ready to run, its devices from
// vm_plan() and one of two tails (a kernel boot, or a template set back); vm_destroy() undoes it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../firmware/firmware.h"
#include "../guest-init/abi.h"
#include "evloop.h"
#include "join.h"
#include "loader.h"
#include "net/net.h"
#include "p9/server.h"
#include "snapshot.h"
#include "spec.h"
#include "template.h"
#include "vm.h"

static int map_ram(struct vm *vm)
{
	uint64_t size = vm->cfg->memory_mib << 20;
	vm->mem_fd = memfd_create("clearvm-ram", MFD_CLOEXEC);
	if (vm->mem_fd < 0)
		return log_err(errno, "memfd_create");
	if (ftruncate(vm->mem_fd, (off_t)size) < 0)
		return log_err(errno, "guest RAM of %llu MiB", (unsigned long long)vm->cfg->memory_mib);
	// Untouched pages cost nothing: NORESERVE, and the guest only touches what it uses.
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, vm->mem_fd, 0);
	if (p == MAP_FAILED)
		return log_err(errno, "mmap guest RAM");
	vm->mem.base = p;
	vm->mem.size = size;
	return 0;
}

// Given to KVM only once the images are in place: the kernel's copy-on-write mappings go in
// over guest RAM while KVM has nothing of it to invalidate.
static int plug_ram(struct vm *vm)
{
	struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0,
						      .memory_size = vm->mem.size,
						      .userspace_addr = (uintptr_t)vm->mem.base};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return log_err(errno, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

static int create_irqchip(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS) < 0)
		return log_err(errno, "KVM_SET_TSS_ADDR");
	uint64_t identity = LAYOUT_KVM_IDENTITY;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return log_err(errno, "KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return log_err(errno, "KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = {.flags = 0};
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return log_err(errno, "KVM_CREATE_PIT2");
	return 0;
}

static void raise_irq(void *ctx, unsigned irq)
{
	struct vm *vm = ctx;
	struct kvm_irq_level l = {.irq = irq, .level = 1};
	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
	l.level = 0;
	ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

// Puts dev in the next virtio-mmio slot and declares it on the kernel command line.
static int add_virtio(struct vm *vm, struct virtio_dev *dev)
{
	if (vm->ndevs == LAYOUT_VIRTIO_SLOTS) {
		virtio_dev_free(dev);
		return log_err(ENOSPC, "virtio slots");
	}
	unsigned slot = vm->ndevs;
	gpa_t base = LAYOUT_VIRTIO_BASE + slot * LAYOUT_VIRTIO_SIZE;
	dev->mem = &vm->mem;
	dev->raise_irq = raise_irq;
	dev->irq_ctx = vm;
	dev->irq = layout_virtio_irq(slot);
	vm->devs[vm->ndevs++] = dev;
	int r = bus_add(&vm->mmio, base, LAYOUT_VIRTIO_SIZE, virtio_mmio_access, dev);
	if (r < 0)
		return log_err(r, "virtio slot %u", slot);
	// A notify of any of its queues; without the ioeventfd it is an MMIO exit, handled the
	// same way in the end.
	struct kvm_ioeventfd io = {.addr = base + VIRTIO_MMIO_QUEUE_NOTIFY, .len = 4, .fd = dev->notify_fd};
	if (dev->notify_fd >= 0 && ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		log_debug("virtio slot %u: KVM_IOEVENTFD: %s", slot, strerror(errno));
	// Or one per queue: the value written is the queue's index.
	for (unsigned q = 0; dev->queue_notify_fds && q < dev->nqueues; q++) {
		io = (struct kvm_ioeventfd){.addr = base + VIRTIO_MMIO_QUEUE_NOTIFY, .len = 4,
					    .datamatch = q, .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
					    .fd = dev->queue_notify_fds[q]};
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
			log_debug("virtio slot %u queue %u: KVM_IOEVENTFD: %s", slot, q, strerror(errno));
	}
	struct kvm_irqfd irqfd = {.fd = (uint32_t)dev->irqfd, .gsi = dev->irq};
	if (dev->irqfd >= 0 && ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		log_debug("virtio slot %u: KVM_IRQFD: %s", slot, strerror(errno));
		dev->irqfd = -1;
	}
	size_t len = strlen(vm->cmdline);
	int n = snprintf(vm->cmdline + len, sizeof(vm->cmdline) - len, " virtio_mmio.device=4K@%#llx:%u",
			 (unsigned long long)base, dev->irq);
	if (n < 0 || (size_t)n >= sizeof(vm->cmdline) - len)
		return log_err(E2BIG, "kernel command line");
	return 0;
}

// The devices of the plan: its shares, the console with its ports, the balloon, the network
// card; with --console
// the serial port for the kernel's log.
static int add_devices(struct vm *vm, const struct vm_plan *plan)
{
	struct virtio_dev *dev;
	int r;
	for (unsigned i = 0; i < plan->nshares; i++) {
		const struct plan_share *s = &plan->shares[i];
		enum vm_fs how = s->root ? vm->cfg->fs : vm->cfg->volume_fs;
		enum share_fs fs = how == FS_VIRTIOFS ? SHARE_VIRTIOFS : SHARE_9P;
		if ((r = virtio_share_new(fs, s->root, s->spare ? NULL : &s->share, s->tag,
					  vm->cfg->seccomp, &vm->trace->fs_requests, &dev)) < 0 ||
		    (r = add_virtio(vm, dev)) < 0)
			return r;
	}
	if ((r = virtio_console_new(plan->port_fds, plan->port_names, plan->nports, &dev)) < 0)
		return log_err(r, "virtio-console");
	vm->console = dev;
	if ((r = add_virtio(vm, dev)) < 0)
		return r;
	if ((r = virtio_balloon_new(vm->mem_fd, &vm->trace->reported_bytes, &dev)) < 0)
		return log_err(r, "virtio-balloon");
	vm->balloon = dev;
	if ((r = add_virtio(vm, dev)) < 0)
		return r;
	if (plan->nic) {
		if ((r = virtio_net_new(vm->cfg->net.mac, vm->net ? vm->net->fd : -1,
					vm->cfg->network == NETWORK_TAP, vm->net ? vm->net->vhost : -1,
					&dev)) < 0)
			return log_err(r, "virtio-net");
		vm->nic = dev;
		if ((r = add_virtio(vm, dev)) < 0)
			return r;
	}
	if (vm->cfg->console && (r = bus_add(&vm->pio, LAYOUT_SERIAL_PORT, 8, serial_access, vm)) < 0)
		return log_err(r, "serial port");
	return 0;
}

// Maps a whole file read-only; *fdp (if given) gets the open file, for mapping parts of it again.
static int read_file(const char *what, const char *path, uint8_t **out, size_t *size, int *fdp)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return log_err(errno, "%s %s", what, path);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return log_err(EINVAL, "%s %s: not a non-empty regular file", what, path);
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return log_err(errno, "%s %s", what, path);
	*out = p;
	*size = (size_t)st.st_size;
	if (fdp)
		*fdp = steal_fd(&fd);
	return 0;
}

// The kernel at its physical addresses, then guest-init's initramfs with the launch spec
// appended as a second archive, as high in RAM as the boot protocol allows.
static int load_images(struct vm *vm, struct loaded_kernel *k, gpa_t *initrd, uint64_t *initrd_size)
{
	const struct vm_config *cfg = vm->cfg;
	uint8_t *img;
	size_t size;
	_cleanup_close_ int fd = -1;
	int r = read_file("kernel", cfg->kernel, &img, &size, &fd);
	if (r < 0)
		return r;
	// A template's memory is saved from the memfd: everything goes there (copied, not mapped).
	bool cold = vm->mode == VM_COLD;
	r = loader_load_elf(img, size, cold ? fd : -1, vm->mem.base, vm->mem.size, k);
	munmap(img, size);
	if (r == -ENOEXEC)
		return log_err(0, "kernel %s: not an uncompressed x86-64 vmlinux", cfg->kernel);
	if (r < 0)
		return log_err(r, "kernel %s", cfg->kernel);

	_cleanup_free_ uint8_t *spec = NULL;
	size_t spec_size = 0;
	if (cold && (r = spec_build_archive(cfg, &spec, &spec_size)) < 0)
		return log_err(r, "launch spec");
	_cleanup_close_ int initramfs_fd = -1;
	if ((r = read_file("initramfs", cfg->initramfs, &img, &size, &initramfs_fd)) < 0)
		return r;
	size_t first = ALIGN_UP(size, (size_t)4);
	uint64_t total = first + spec_size;
	if ((r = fw_initrd_placement(vm->mem.size, total, k->end, initrd)) < 0) {
		munmap(img, size);
		return log_err(r, "initramfs and launch spec (%llu bytes) in %llu MiB of RAM",
			       (unsigned long long)total, (unsigned long long)cfg->memory_mib);
	}
	uint8_t *dst = gpa_ptr(&vm->mem, *initrd, total);
	r = loader_place(dst, img, size, cold ? initramfs_fd : -1, 0);
	munmap(img, size);
	if (r < 0)
		return log_err(r, "initramfs %s", cfg->initramfs);
	memset(dst + size, 0, first - size);
	if (spec_size)
		memcpy(dst + first, spec, spec_size);
	*initrd_size = total;
	return 0;
}

static int write_firmware(struct vm *vm, gpa_t initrd, uint64_t initrd_size)
{
	struct fw_config fw = {.ram_size = vm->mem.size, .ncpus = vm->nvcpus, .cmdline = vm->cmdline,
			       .initrd_gpa = initrd, .initrd_size = initrd_size};
	int r = fw_write_gdt(vm->mem.base, vm->mem.size);
	r = r ?: fw_write_pagetables(vm->mem.base, vm->mem.size);
	r = r ?: fw_write_mptable(vm->mem.base, vm->mem.size, vm->nvcpus);
	r = r ?: fw_write_boot_params(vm->mem.base, vm->mem.size, &fw);
	return r < 0 ? log_err(r, "firmware tables") : 0;
}

// The template's memory goes in copy-on-write over guest RAM (pages the guest only reads stay
// shared with every VM from the template), then its state, then the spec to send.
static int restore_template(struct vm *vm)
{
	const struct template *t = vm->tpl;
	// A hidden test hook: the restore fails after the template loaded, as a KVM that refuses
	// the saved state would; the run must boot cold instead.
	const char *hook = getenv("CLEARVM_TEST_RESTORE_FAILURE");
	if (hook && *hook)
		return log_err(EINVAL, "template state (test hook)");
	void *p = mmap(vm->mem.base, vm->mem.size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, t->mem_fd, 0);
	if (p == MAP_FAILED)
		return log_err(errno, "template memory %s", t->path);
	int r = plug_ram(vm);
	return r < 0 ? r : snapshot_restore(vm, t->snap);
}

// A cold boot's (and a template boot's) tail: kernel and initramfs in RAM, the tables a
// firmware would leave, RAM given to KVM, the first vCPU at the kernel's 64-bit entry.
static int boot_kernel(struct vm *vm)
{
	struct loaded_kernel k;
	gpa_t initrd = 0;
	uint64_t initrd_size = 0;
	int r;
	if ((r = load_images(vm, &k, &initrd, &initrd_size)) < 0 ||
	    (r = write_firmware(vm, initrd, initrd_size)) < 0 || (r = plug_ram(vm)) < 0)
		return r;
	vm->entry = k.entry;
	return vcpu_setup_boot(&vm->vcpus[0], k.entry);
}

static void on_kick(int sig)
{
	(void)sig; // only interrupts KVM_RUN, or a file server's blocked call, when stopping
}

int vm_build(struct vm *vm, const struct vm_config *cfg)
{
	int r;
	// No SA_RESTART: a kicked thread's blocking call must return.
	struct sigaction sa = {.sa_handler = on_kick};
	sigaction(SIGUSR1, &sa, NULL);
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->mem_fd = vm->ports.wake_fd = -1;
	vm->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->done_fd < 0)
		return log_err(errno, "eventfd");
	vm->nvcpus = cfg->cpus;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%s",
		 cfg->console ? "console=ttyS0 " ABI_KERNEL_ARGS : "quiet " ABI_KERNEL_ARGS);

	if (cfg->append) {
		size_t len = strlen(vm->cmdline);
		int n = snprintf(vm->cmdline + len, sizeof(vm->cmdline) - len, " %s", cfg->append);
		if (n < 0 || (size_t)n >= sizeof(vm->cmdline) - len)
			return log_err(E2BIG, "--append: kernel command line");
	}
	if ((r = kvm_open_checked(vm)) < 0)
		return r;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return log_err(errno, "KVM_CREATE_VM");
	if ((r = map_ram(vm)) < 0 || (r = create_irqchip(vm)) < 0)
		return r;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if ((r = vcpu_create(vm, i)) < 0)
			return r;
	trace_mark(vm->trace, TRACE_VM_CREATED);
	if ((r = guest_ports_init(&vm->ports, vm)) < 0)
		return r;
	struct vm_plan plan;
	if ((r = vm_plan(cfg, vm->mode, &plan)) < 0)
		return log_err(r, "virtio slots");
	if ((r = add_devices(vm, &plan)) < 0)
		return r;

	// The tail: a boot loads the kernel and the boot tables, a restore sets a template back.
	r = vm->mode == VM_RESTORE ? restore_template(vm) : boot_kernel(vm);
	trace_mark(vm->trace, TRACE_KERNEL_LOADED);
	return r;
}

void vm_finish(struct vm *vm, int status, const char *why)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->done) {
		vm->done = true;
		vm->status = status;
		if (why)
			snprintf(vm->why, sizeof(vm->why), "%s", why);
		pthread_cond_broadcast(&vm->cond);
		uint64_t one = 1;
		if (write(vm->done_fd, &one, sizeof(one)) < 0)
			log_debug("done eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&vm->lock);
}

static void start_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		int r = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (r) {
			vm_finish(vm, EXIT_CLEARVM_FAILED, "cannot start a vCPU thread");
			break;
		}
		vm->vcpus[i].started = true;
	}
}

// Until the run is over or the timeout (then: 125 and why). The deadline is on the monotonic
// clock: a host clock set back or forward must not stretch or cut --timeout.
static void wait_done(struct vm *vm)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += vm->cfg->timeout_s;
	pthread_mutex_lock(&vm->lock);
	while (!vm->done) {
		if (!vm->cfg->timeout_s) {
			pthread_cond_wait(&vm->cond, &vm->lock);
		} else if (pthread_cond_clockwait(&vm->cond, &vm->lock, CLOCK_MONOTONIC, &deadline) == ETIMEDOUT) {
			vm->done = true;
			vm->status = EXIT_CLEARVM_FAILED;
			snprintf(vm->why, sizeof(vm->why), "timeout: the command did not finish in %u s",
				 vm->cfg->timeout_s);
		}
	}
	pthread_mutex_unlock(&vm->lock);
}

// Stops every vCPU: immediate_exit makes the next KVM_RUN return (after completing the exit
// the vCPU was handling), the signal the current one.
static void kick_vcpu(void *arg)
{
	pthread_kill(((struct vcpu *)arg)->thread, SIGUSR1);
}

// Every vCPU is told to leave KVM_RUN and kicked, then each is joined (kicked again until it
// has gone).
static void stop_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->started)
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		kick_vcpu(v);
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->started)
			join_kicking(v->thread, kick_vcpu, v);
		v->started = false;
	}
}

int vm_run(struct vm *vm, struct io_thread *io)
{
	// -it: keys go to the guest's terminal as typed (Ctrl-C included) until the run ends.
	if (vm->cfg->tty && vm->cfg->interactive && tty_raw() < 0)
		return EXIT_CLEARVM_FAILED;
	if (evloop_start(io) < 0)
		return EXIT_CLEARVM_FAILED;
	start_vcpus(vm);
	// Every thread is started: from here on the main thread only waits, stops and reports.
	if (seccomp_enter(SECCOMP_MAIN, vm->cfg->seccomp) < 0)
		vm_finish(vm, EXIT_CLEARVM_FAILED, "main thread: seccomp filter");
	wait_done(vm);
	stop_vcpus(vm);
	// Every byte the workload wrote reaches clearvm's stdout and stderr before it exits, unless
	// clearvm itself failed (a --timeout, a reader that never reads must not hold it).
	evloop_stop(io, !vm->why[0]);
	tty_restore();
	if (vm->why[0])
		log_msg("%s", vm->why);
	return vm->status;
}

int vm_run_template(struct vm *vm)
{
	// SIGINT, SIGTERM and SIGHUP wait (blocked) for the run's I/O thread, which forwards
	// them; one that arrives meanwhile ends the template boot at once.
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	int sig_fd = signalfd(-1, &stop, SFD_CLOEXEC); // polled, never read: they stay pending
	if (sig_fd < 0)
		return log_err(errno, "template boot: signalfd");
	start_vcpus(vm);
	// Until the template point, the guest's end, a stop signal or the timeout: one wait, no tick.
	int64_t deadline = monotonic_ms() + (int64_t)vm->cfg->timeout_s * 1000;
	const char *stopped = NULL;
	for (;;) {
		struct pollfd fds[2] = {{.fd = vm->done_fd, .events = POLLIN}, {.fd = sig_fd, .events = POLLIN}};
		int64_t left = deadline - monotonic_ms();
		int n = left > 0 ? poll(fds, 2, (int)MIN(left, INT32_MAX)) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (fds[0].revents & POLLIN)
			break;
		stopped = n < 0 ? "poll failed" : fds[1].revents ? "a signal came" : "it took too long";
		break;
	}
	close(sig_fd);
	pthread_mutex_lock(&vm->lock);
	if (!vm->done && stopped) {
		vm->done = true;
		vm->status = EXIT_CLEARVM_FAILED;
		snprintf(vm->why, sizeof(vm->why), "%s", stopped);
	}
	pthread_mutex_unlock(&vm->lock);
	stop_vcpus(vm);
	(void)old; // the stop signals stay blocked: the run's signalfd takes them
	if (vm->status != VM_STATUS_TEMPLATE_READY)
		return log_err(EIO, "template boot: %s", vm->why[0] ? vm->why : "the guest ended before it was ready");
	return 0;
}

void vm_destroy(struct vm *vm)
{
	guest_ports_close(&vm->ports);
	if (vm->done_fd > 0)
		close(vm->done_fd);
	for (unsigned i = 0; i < vm->ndevs; i++)
		virtio_dev_free(vm->devs[i]);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd > 0)
			close(v->fd);
	}
	if (vm->mem.base)
		munmap(vm->mem.base, vm->mem.size);
	if (vm->mem_fd >= 0)
		close(vm->mem_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
}
