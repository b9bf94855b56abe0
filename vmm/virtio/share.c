// SPDX-License-Identifier: Apache-2.0
// The devices that serve a share: virtio-9p (virtio 1.2, 5.5 "unsupported" device 9: one
// request queue, a 9p server) and virtio-fs (5.11, device 26: a high-priority queue and one
// request queue, a FUSE server). Either server runs on a thread of its own. Run as root, that
// thread lives in a jail holding only its share (jail.c) with the file capabilities the
// server needs and nothing else, under the file server's seccomp filter; the vCPU that
// notifies only wakes it.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../join.h"
#include "../sandbox/sandbox.h"
#include "../fuse/server.h"
#include "devices.h"

#define VIRTIO_ID_9P 9
#define VIRTIO_ID_FS 26
#define VIRTIO_9P_MOUNT_TAG (1ULL << 0)
#define SHARE_TAG_MAX 64
#define FS_TAG_LEN 36 // virtio-fs: tag[36] (NUL-padded), then num_request_queues

struct share_dev;

// What differs between the two: the protocol's server and the device's face.
struct share_proto {
	const char *name;	 // in logs
	const char *thread_name; // the server thread's (the hardening tests look for it)
	uint32_t id;
	uint64_t features;
	unsigned nqueues;
	size_t buf_max; // the largest request or reply
	int (*open)(struct share_dev *p, const char *root, const char *fds);
	// One request: the reply's length (0: no reply, the chain goes back empty).
	size_t (*handle)(void *srv, const uint8_t *req, size_t len, uint8_t *resp, size_t cap);
	void (*free)(void *srv);
};

struct share_dev {
	struct virtio_dev dev;
	const struct share_proto *proto;
	void *srv;
	bool owned; // the guest's own (a root): it may cache what it reads
	uint8_t cfg[2 + SHARE_TAG_MAX]; // the config space: the tag as the protocol lays it out
	uint32_t cfg_len;
	uint8_t *req, *resp; // bounce buffers: the guest cannot change a request while it is parsed
	uint64_t *requests;  // answered, counted for the boot trace (shared by every share)

	// The server thread, woken through `kick` by notifies and by share_destroy.
	pthread_t thread;
	bool started;
	int kick;
	bool stop;
	// What the thread needs to start, and how its start went (posted once to `ready`).
	struct jail_share share; // share.path: NULL for a spare slot, and once started
	enum seccomp_mode seccomp;
	sem_t ready;
	int start_err;
	const char *start_what;
};

// vCPU thread, device lock held: wake the server.
static void share_notify(struct virtio_dev *dev, unsigned q)
{
	(void)q;
	struct share_dev *p = dev->priv;
	if (!p->started) { // a template's spare slot, with no share behind it
		virtio_needs_reset(dev, "share: no share in this slot");
		return;
	}
	uint64_t one = 1;
	if (write(p->kick, &one, sizeof(one)) < 0)
		log_debug("%s: cannot wake the server: %s", p->proto->name, strerror(errno));
}

// Serves every request available, one at a time. The device lock is held only to take a
// request and to put its reply: a slow file operation never stalls the vCPU. A reset in
// between (the generation changed) drops the reply.
static void serve_queue(struct share_dev *p, unsigned q)
{
	struct virtio_dev *dev = &p->dev;
	struct virtq *vq = &dev->vq[q];
	size_t max = p->proto->buf_max;
	for (;;) {
		struct virtq_chain chain;
		pthread_mutex_lock(&dev->lock);
		int r = virtio_driver_ok(dev) && vq->ready ? virtq_pop(vq, dev->mem, &chain) : 0;
		if (r <= 0) {
			if (r < 0)
				virtio_needs_reset(dev, p->proto->name);
			pthread_mutex_unlock(&dev->lock);
			return;
		}
		uint32_t generation = dev->generation;
		size_t len = iov_to_buf(chain.out, chain.nout, p->req, max);
		size_t cap = MIN(chain.in_len, (uint64_t)max);
		pthread_mutex_unlock(&dev->lock);

		size_t n = p->proto->handle(p->srv, p->req, len, p->resp, cap);
		if (p->requests)
			__atomic_fetch_add(p->requests, 1, __ATOMIC_RELAXED);

		pthread_mutex_lock(&dev->lock);
		if (generation == dev->generation && vq->ready) {
			size_t put = buf_to_iov(chain.in, chain.nin, p->resp, n);
			virtq_push(vq, dev->mem, chain.head, (uint32_t)put);
			virtio_signal_used(dev, q);
		}
		pthread_mutex_unlock(&dev->lock);
	}
}

static int open_server(void *ctx, const char *root, const char *fds)
{
	struct share_dev *p = ctx;
	return p->proto->open(p, root, fds);
}

static int open_p9(struct share_dev *p, const char *root, const char *fds)
{
	return p9_server_new(root, fds, p->share.readonly, (struct p9_server **)&p->srv);
}

static size_t handle_p9(void *srv, const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	return p9_server_handle(srv, req, len, resp, cap);
}

static void free_p9(void *srv)
{
	p9_server_free(srv);
}

// virtio-fs: a share the guest owns (a root) may be cached by the guest; a volume may not.
static int open_fs(struct share_dev *p, const char *root, const char *fds)
{
	return fuse_server_new(root, fds, p->share.readonly,
			       p->owned ? FUSE_CACHE_OWNED : FUSE_CACHE_NONE,
			       (struct fuse_server **)&p->srv);
}

static size_t handle_fs(void *srv, const uint8_t *req, size_t len, uint8_t *resp, size_t cap)
{
	return fuse_server_handle(srv, req, len, resp, cap);
}

static void free_fs(void *srv)
{
	fuse_server_free(srv);
}

static const struct share_proto proto_p9 = {
    .name = "9p", .thread_name = "clearvm-9p", .id = VIRTIO_ID_9P,
    .features = VIRTIO_9P_MOUNT_TAG, .nqueues = 1, .buf_max = P9_MSIZE_MAX,
    .open = open_p9, .handle = handle_p9, .free = free_p9};
static const struct share_proto proto_fs = {
    .name = "virtio-fs", .thread_name = "clearvm-fs", .id = VIRTIO_ID_FS,
    .features = 0, .nqueues = 2, .buf_max = FUSE_BUF_MAX,
    .open = open_fs, .handle = handle_fs, .free = free_fs};

static int server_start(struct share_dev *p)
{
	return sandbox_enter_file_server(&p->share, p->seccomp, open_server, p, &p->start_what);
}

static void *server_thread(void *arg)
{
	struct share_dev *p = arg;
	// Signals go to the I/O thread's signalfd; only the kick that stops this thread gets in.
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	pthread_setname_np(pthread_self(), p->proto->thread_name);
	p->start_err = server_start(p);
	bool ok = p->start_err == 0;
	sem_post(&p->ready); // p->share and the start fields are not touched after this
	while (ok && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		uint64_t n;
		if (read(p->kick, &n, sizeof(n)) < 0 && errno != EINTR)
			break;
		for (unsigned q = 0; q < p->proto->nqueues && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE); q++)
			serve_queue(p, q);
	}
	return NULL;
}

static void share_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len, bool write)
{
	struct share_dev *p = dev->priv;
	if (write)
		return;
	memset(data, 0, len);
	if (off < p->cfg_len)
		memcpy(data, p->cfg + off, MIN(len, p->cfg_len - off));
}

// Wakes the server thread: by the eventfd when idle, by SIGUSR1 when blocked in a file
// operation (a FIFO with no writer).
static void kick_server(void *arg)
{
	struct share_dev *p = arg;
	uint64_t one = 1;
	if (write(p->kick, &one, sizeof(one)) < 0)
		log_debug("%s: cannot wake the server: %s", p->proto->name, strerror(errno));
	pthread_kill(p->thread, SIGUSR1);
}

static void stop_server(struct share_dev *p)
{
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	join_kicking(p->thread, kick_server, p);
}

static void share_destroy(struct virtio_dev *dev)
{
	struct share_dev *p = dev->priv;
	if (p->started)
		stop_server(p);
	sem_destroy(&p->ready);
	if (p->kick >= 0)
		close(p->kick);
	if (p->srv)
		p->proto->free(p->srv);
	free(p->req);
	free(p->resp);
}

static const struct virtio_dev_ops share_ops = {
	.notify = share_notify, .config = share_config, .destroy = share_destroy};

// Starts the server thread with every signal blocked (it unblocks SIGUSR1 itself) and waits
// until it serves or has failed.
static int start_thread(struct share_dev *p)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int r = pthread_create(&p->thread, NULL, server_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return log_err(r, "share %s: file server thread", p->share.path);
	p->started = true;
	while (sem_wait(&p->ready) < 0 && errno == EINTR)
		;
	if (p->start_err < 0)
		return p->start_what ? log_err(p->start_err, "share %s: %s", p->share.path, p->start_what)
				     : log_err(p->start_err, "share %s", p->share.path);
	p->dev.notify_fd = p->kick; // the guest's notify can wake the server without an exit
	return 0;
}

int virtio_share_new(enum share_fs fs, bool owned, const struct jail_share *share, const char *tag,
		     enum seccomp_mode seccomp, uint64_t *requests, struct virtio_dev **out)
{
	const struct share_proto *proto = fs == SHARE_VIRTIOFS ? &proto_fs : &proto_p9;
	size_t tl = strlen(tag);
	if (tl == 0 || tl > (fs == SHARE_VIRTIOFS ? FS_TAG_LEN : SHARE_TAG_MAX))
		return log_err(EINVAL, "%s tag %s", proto->name, tag);
	struct share_dev *p = calloc(1, sizeof(*p));
	if (!p)
		return log_err(ENOMEM, "%s", proto->name);
	p->proto = proto;
	p->owned = owned;
	p->kick = eventfd(0, EFD_CLOEXEC);
	sem_init(&p->ready, 0, 0);
	p->req = malloc(proto->buf_max);
	p->resp = malloc(proto->buf_max);
	if (fs == SHARE_VIRTIOFS) { // tag[36], then num_request_queues (little-endian) = 1
		memcpy(p->cfg, tag, tl);
		p->cfg[FS_TAG_LEN] = 1;
		p->cfg_len = FS_TAG_LEN + 4;
	} else { // tag_len (little-endian), then the tag
		p->cfg[0] = (uint8_t)tl;
		memcpy(p->cfg + 2, tag, tl);
		p->cfg_len = 2 + (uint32_t)tl;
	}
	if (share)
		p->share = *share;
	p->seccomp = seccomp;
	p->requests = requests;
	virtio_dev_init(&p->dev, proto->id, proto->features, proto->nqueues, &share_ops, p);
	int r = p->kick < 0	      ? log_err(errno, "%s: eventfd", proto->name)
		: !p->req || !p->resp ? log_err(ENOMEM, "%s", proto->name)
		: p->share.path	      ? start_thread(p)
				      : 0;
	if (r < 0) {
		virtio_dev_free(&p->dev);
		return r;
	}
	p->share.path = NULL;
	*out = &p->dev;
	return 0;
}
