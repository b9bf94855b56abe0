// SPDX-License-Identifier: Apache-2.0
// Saving a stopped VM and setting it back into a new one: the in-kernel irqchip, PIT and
// kvm-clock, every vCPU's registers, FPU/xsave, MSRs, LAPIC and pending events, and each
// virtio device's transport and own state. The order of the restore follows what KVM needs:
// CPUID before MSRs (set when the vCPU was made), special registers before the LAPIC (its
// base is in them), the TSC before the TSC deadline, the clock last.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "snapshot.h"
#include "vm.h"

#define MSR_IA32_TSC_DEADLINE 0x6e0
#define SNAP_MAGIC "clvmsnap"
#define SNAP_VERSION 1

struct snap_header {
	char magic[8];
	uint32_t version, header_size, vcpu_size, dev_size;
	uint64_t key, mem_size;
	uint32_t nvcpus, ndevs;
	struct snap_vm vm;
};

// Every MSR KVM can save that this vCPU has, read one by one (the list names some a vCPU
// without the matching CPUID feature refuses), the TSC deadline moved last.
static int save_msrs(struct vm *vm, struct vcpu *v, struct snap_vcpu *s)
{
	struct {
		struct kvm_msr_list l;
		uint32_t idx[1024];
	} list = {.l.nmsrs = 1024};
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &list) < 0)
		return log_err(errno, "KVM_GET_MSR_INDEX_LIST");
	uint32_t deadline = 0;
	bool has_deadline = false;
	s->nmsrs = 0;
	for (uint32_t i = 0; i < list.l.nmsrs && s->nmsrs < SNAP_MAX_MSRS; i++) {
		struct {
			struct kvm_msrs h;
			struct kvm_msr_entry e;
		} one = {.h.nmsrs = 1, .e.index = list.idx[i]};
		if (ioctl(v->fd, KVM_GET_MSRS, &one) != 1)
			continue;
		if (one.e.index == MSR_IA32_TSC_DEADLINE) {
			has_deadline = true;
			deadline = (uint32_t)s->nmsrs;
		}
		s->msrs[s->nmsrs++] = one.e;
	}
	if (has_deadline) {
		struct kvm_msr_entry d = s->msrs[deadline];
		memmove(&s->msrs[deadline], &s->msrs[deadline + 1], (s->nmsrs - deadline - 1) * sizeof(d));
		s->msrs[s->nmsrs - 1] = d;
	}
	return 0;
}

// The parts of a vCPU's state each one ioctl gets and sets, in the order they are set back.
static const struct {
	unsigned long get, set;
	size_t off;
	const char *name;
} vcpu_parts[] = {
	{KVM_GET_REGS, KVM_SET_REGS, offsetof(struct snap_vcpu, regs), "regs"},
	{KVM_GET_SREGS, KVM_SET_SREGS, offsetof(struct snap_vcpu, sregs), "sregs"},
	{KVM_GET_XSAVE, KVM_SET_XSAVE, offsetof(struct snap_vcpu, xsave), "xsave"},
	{KVM_GET_XCRS, KVM_SET_XCRS, offsetof(struct snap_vcpu, xcrs), "xcrs"},
	{KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, offsetof(struct snap_vcpu, debugregs), "debugregs"},
	{KVM_GET_LAPIC, KVM_SET_LAPIC, offsetof(struct snap_vcpu, lapic), "LAPIC"},
	{KVM_GET_MP_STATE, KVM_SET_MP_STATE, offsetof(struct snap_vcpu, mp_state), "MP state"},
	{KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, offsetof(struct snap_vcpu, events), "events"},
};

static int save_vcpu(struct vm *vm, struct vcpu *v, struct snap_vcpu *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(vcpu_parts); i++)
		if (ioctl(v->fd, vcpu_parts[i].get, (uint8_t *)s + vcpu_parts[i].off) < 0)
			return log_err(errno, "vCPU %u: getting its %s", v->index, vcpu_parts[i].name);
	return save_msrs(vm, v, s);
}

int snapshot_save(struct vm *vm, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->vm.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
	s->vm.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
	s->vm.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s->vm.pic_master) < 0 ||
	    ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s->vm.pic_slave) < 0 ||
	    ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s->vm.ioapic) < 0)
		return log_err(errno, "KVM_GET_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &s->vm.pit) < 0)
		return log_err(errno, "KVM_GET_PIT2");
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &s->vm.clock) < 0)
		return log_err(errno, "KVM_GET_CLOCK");
	s->nvcpus = vm->nvcpus;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		int r = save_vcpu(vm, &vm->vcpus[i], &s->vcpus[i]);
		if (r < 0)
			return r;
	}
	s->ndevs = vm->ndevs;
	for (unsigned i = 0; i < vm->ndevs; i++) {
		int r = virtio_dev_save(vm->devs[i], &s->devs[i]);
		if (r < 0)
			return log_err(r, "virtio slot %u: saving its state", i);
	}
	return 0;
}

static int restore_vcpu_state(struct vcpu *v, const struct snap_vcpu *s);

static int set_msrs(struct vcpu *v, const struct kvm_msr_entry *e, uint32_t n)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[SNAP_MAX_MSRS];
	} msrs = {.h.nmsrs = n};
	memcpy(msrs.e, e, n * sizeof(e[0]));
	int r = ioctl(v->fd, KVM_SET_MSRS, &msrs);
	if (r < 0 || (uint32_t)r != n)
		return log_err(r < 0 ? errno : EINVAL, "vCPU %u: KVM_SET_MSRS (MSR %#x)", v->index,
			       r >= 0 && (uint32_t)r < n ? e[r].index : 0);
	return 0;
}

// On AMD, KVM reports the task register busy (type 11), as VMX needs it; SVM keeps it as the
// hardware loaded it (type 9, available), and an emulated AMD CPU (QEMU's, the test bed's)
// refuses the TSS I/O bitmap of a busy one: every port access of guest-init would fault.
static bool amd_cpu(const struct vm *vm)
{
	for (uint32_t i = 0; i < vm->cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];
		if (e->function == 0)
			return e->ebx == 0x68747541 && e->edx == 0x69746e65 && e->ecx == 0x444d4163;
	}
	return false;
}

static int restore_vcpu(struct vcpu *v, const struct snap_vcpu *saved)
{
	struct snap_vcpu *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, saved, sizeof(*s));
	if (amd_cpu(v->vm))
		s->sregs.tr.type &= ~2;
	int r = restore_vcpu_state(v, s);
	free(s);
	return r;
}

static int restore_vcpu_state(struct vcpu *v, const struct snap_vcpu *s)
{
	// The TSC deadline only takes once the LAPIC is in TSC-deadline mode: it goes after it
	// (saved last), else the guest's next timer never fires.
	uint32_t n = s->nmsrs;
	bool deadline = n && s->msrs[n - 1].index == MSR_IA32_TSC_DEADLINE;
	int r = set_msrs(v, s->msrs, deadline ? n - 1 : n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(vcpu_parts); i++)
		if (ioctl(v->fd, vcpu_parts[i].set, (const uint8_t *)s + vcpu_parts[i].off) < 0)
			return log_err(errno, "vCPU %u: setting its %s", v->index, vcpu_parts[i].name);
	return deadline ? set_msrs(v, &s->msrs[n - 1], 1) : 0;
}

int snapshot_restore(struct vm *vm, const struct snapshot *s)
{
	if (s->nvcpus != vm->nvcpus || s->ndevs != vm->ndevs)
		return log_err(EINVAL, "template: %u vCPUs and %u devices, this VM %u and %u", s->nvcpus,
			       s->ndevs, vm->nvcpus, vm->ndevs);
	for (unsigned i = 0; i < vm->ndevs; i++) {
		int r = virtio_dev_restore(vm->devs[i], &s->devs[i]);
		if (r < 0)
			return log_err(r, "template: virtio slot %u", i);
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		int r = restore_vcpu(&vm->vcpus[i], &s->vcpus[i]);
		if (r < 0)
			return r;
	}
	if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->vm.pic_master) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->vm.pic_slave) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->vm.ioapic) < 0)
		return log_err(errno, "KVM_SET_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &s->vm.pit) < 0)
		return log_err(errno, "KVM_SET_PIT2");
	// The guest's clocks go on from where they stopped; guest-init sets the wall clock.
	struct kvm_clock_data clock = {.clock = s->vm.clock.clock};
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return log_err(errno, "KVM_SET_CLOCK");
	return 0;
}

static int write_all_at(int fd, const void *buf, size_t len, off_t *off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, *off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		*off += n;
	}
	return 0;
}

static int read_all_at(int fd, void *buf, size_t len, off_t *off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, *off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ESTALE; // short: not a whole template
		p += n;
		len -= (size_t)n;
		*off += n;
	}
	return 0;
}

int snapshot_write(int fd, const struct snapshot *s, uint64_t key, uint64_t mem_size)
{
	struct snap_header h = {.version = SNAP_VERSION, .header_size = sizeof(h),
				.vcpu_size = sizeof(s->vcpus[0]), .dev_size = sizeof(s->devs[0]),
				.key = key, .mem_size = mem_size, .nvcpus = s->nvcpus, .ndevs = s->ndevs,
				.vm = s->vm};
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	off_t off = 0;
	int r = write_all_at(fd, &h, sizeof(h), &off);
	r = r ?: write_all_at(fd, s->vcpus, s->nvcpus * sizeof(s->vcpus[0]), &off);
	r = r ?: write_all_at(fd, s->devs, s->ndevs * sizeof(s->devs[0]), &off);
	return r;
}

int snapshot_read(int fd, struct snapshot *s, uint64_t key, uint64_t mem_size, unsigned nvcpus)
{
	struct snap_header h;
	off_t off = 0;
	int r = read_all_at(fd, &h, sizeof(h), &off);
	if (r < 0)
		return r;
	if (memcmp(h.magic, SNAP_MAGIC, sizeof(h.magic)) || h.version != SNAP_VERSION ||
	    h.header_size != sizeof(h) || h.vcpu_size != sizeof(s->vcpus[0]) ||
	    h.dev_size != sizeof(s->devs[0]) || h.key != key || h.mem_size != mem_size ||
	    h.nvcpus != nvcpus || h.ndevs > LAYOUT_VIRTIO_SLOTS)
		return -ESTALE;
	// Only what the file holds is written: the arrays' unused tail stays untouched memory.
	s->vm = h.vm;
	s->nvcpus = h.nvcpus;
	s->ndevs = h.ndevs;
	r = read_all_at(fd, s->vcpus, s->nvcpus * sizeof(s->vcpus[0]), &off);
	r = r ?: read_all_at(fd, s->devs, s->ndevs * sizeof(s->devs[0]), &off);
	for (unsigned i = 0; !r && i < s->nvcpus; i++)
		if (s->vcpus[i].nmsrs > SNAP_MAX_MSRS)
			r = -ESTALE;
	return r;
}
