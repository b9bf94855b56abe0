// SPDX-License-Identifier: Apache-2.0
// virtio-9p (virtio 1.2, 5.5 "unsupported" device 9): one request queue feeding a 9p server
// that runs on a thread of its own. Run as root, that thread lives in a jail holding only its
// share (jail.c) with the file capabilities the server needs and nothing else, under its own
// seccomp filter; the vCPU that notifies only wakes it.
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
#include "devices.h"

#define VIRTIO_ID_9P 9
#define VIRTIO_9P_MOUNT_TAG (1ULL << 0)
#define P9_TAG_MAX 64

struct virtio_p9 {
	struct virtio_dev dev;
	struct p9_server *srv;
	uint16_t tag_len;
	char tag[P9_TAG_MAX];
	uint8_t *req, *resp; // bounce buffers: the guest cannot change a request while it is parsed
	uint64_t *requests;  // answered, counted for the boot trace (shared by every share)

	// The server thread, woken through `kick` by notifies and by p9_destroy.
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
static void p9_notify(struct virtio_dev *dev, unsigned q)
{
	(void)q;
	struct virtio_p9 *p = dev->priv;
	if (!p->started) { // a template's spare slot, with no share behind it
		virtio_needs_reset(dev, "9p: no share in this slot");
		return;
	}
	uint64_t one = 1;
	if (write(p->kick, &one, sizeof(one)) < 0)
		log_debug("9p: cannot wake the server: %s", strerror(errno));
}

// Serves every request available, one at a time. The device lock is held only to take a
// request and to put its reply: a slow file operation never stalls the vCPU. A reset in
// between (the generation changed) drops the reply.
static void serve_queue(struct virtio_p9 *p)
{
	struct virtio_dev *dev = &p->dev;
	struct virtq *vq = &dev->vq[0];
	for (;;) {
		struct virtq_chain chain;
		pthread_mutex_lock(&dev->lock);
		int r = virtio_driver_ok(dev) && vq->ready ? virtq_pop(vq, dev->mem, &chain) : 0;
		if (r <= 0) {
			if (r < 0)
				virtio_needs_reset(dev, "9p queue");
			pthread_mutex_unlock(&dev->lock);
			return;
		}
		uint32_t generation = dev->generation;
		size_t len = iov_to_buf(chain.out, chain.nout, p->req, P9_MSIZE_MAX);
		size_t cap = MIN(chain.in_len, (uint64_t)P9_MSIZE_MAX);
		pthread_mutex_unlock(&dev->lock);

		size_t n = p9_server_handle(p->srv, p->req, len, p->resp, cap);
		if (p->requests)
			__atomic_fetch_add(p->requests, 1, __ATOMIC_RELAXED);

		pthread_mutex_lock(&dev->lock);
		if (generation == dev->generation && vq->ready) {
			size_t put = buf_to_iov(chain.in, chain.nin, p->resp, n);
			virtq_push(vq, dev->mem, chain.head, (uint32_t)put);
			virtio_signal_used(dev, 0);
		}
		pthread_mutex_unlock(&dev->lock);
	}
}

static int open_server(void *ctx, const char *root, const char *fds)
{
	struct virtio_p9 *p = ctx;
	return p9_server_new(root, fds, p->share.readonly, &p->srv);
}

static int server_start(struct virtio_p9 *p)
{
	return sandbox_enter_file_server(&p->share, p->seccomp, open_server, p, &p->start_what);
}

static void *server_thread(void *arg)
{
	struct virtio_p9 *p = arg;
	// Signals go to the I/O thread's signalfd; only the kick that stops this thread gets in.
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	pthread_setname_np(pthread_self(), "clearvm-9p");
	p->start_err = server_start(p);
	bool ok = p->start_err == 0;
	sem_post(&p->ready); // p->share and the start fields are not touched after this
	while (ok && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		uint64_t n;
		if (read(p->kick, &n, sizeof(n)) < 0 && errno != EINTR)
			break;
		if (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			serve_queue(p);
	}
	return NULL;
}

static void p9_config(struct virtio_dev *dev, uint32_t off, uint8_t *data, uint32_t len, bool write)
{
	struct virtio_p9 *p = dev->priv;
	uint8_t cfg[2 + P9_TAG_MAX];
	memcpy(cfg, &p->tag_len, 2);
	memcpy(cfg + 2, p->tag, p->tag_len);
	if (write)
		return;
	memset(data, 0, len);
	if (off < 2u + p->tag_len)
		memcpy(data, cfg + off, MIN(len, 2u + p->tag_len - off));
}

// Wakes the server thread: by the eventfd when idle, by SIGUSR1 when blocked in a file
// operation (a FIFO with no writer).
static void kick_server(void *arg)
{
	struct virtio_p9 *p = arg;
	uint64_t one = 1;
	if (write(p->kick, &one, sizeof(one)) < 0)
		log_debug("9p: cannot wake the server: %s", strerror(errno));
	pthread_kill(p->thread, SIGUSR1);
}

static void stop_server(struct virtio_p9 *p)
{
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	join_kicking(p->thread, kick_server, p);
}

static void p9_destroy(struct virtio_dev *dev)
{
	struct virtio_p9 *p = dev->priv;
	if (p->started)
		stop_server(p);
	sem_destroy(&p->ready);
	if (p->kick >= 0)
		close(p->kick);
	p9_server_free(p->srv);
	free(p->req);
	free(p->resp);
}

static const struct virtio_dev_ops p9_ops = {
	.notify = p9_notify, .config = p9_config, .destroy = p9_destroy};

// Starts the server thread with every signal blocked (it unblocks SIGUSR1 itself) and waits
// until it serves or has failed.
static int start_thread(struct virtio_p9 *p)
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

int virtio_p9_new(const struct jail_share *share, const char *tag, enum seccomp_mode seccomp,
		  uint64_t *requests, struct virtio_dev **out)
{
	size_t tl = strlen(tag);
	if (tl == 0 || tl > P9_TAG_MAX)
		return log_err(EINVAL, "9p mount tag %s", tag);
	struct virtio_p9 *p = calloc(1, sizeof(*p));
	if (!p)
		return log_err(ENOMEM, "virtio-9p");
	p->kick = eventfd(0, EFD_CLOEXEC);
	sem_init(&p->ready, 0, 0);
	p->req = malloc(P9_MSIZE_MAX);
	p->resp = malloc(P9_MSIZE_MAX);
	p->tag_len = (uint16_t)tl;
	memcpy(p->tag, tag, tl);
	if (share)
		p->share = *share;
	p->seccomp = seccomp;
	p->requests = requests;
	virtio_dev_init(&p->dev, VIRTIO_ID_9P, VIRTIO_9P_MOUNT_TAG, 1, &p9_ops, p);
	int r = p->kick < 0	      ? log_err(errno, "virtio-9p: eventfd")
		: !p->req || !p->resp ? log_err(ENOMEM, "virtio-9p")
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
