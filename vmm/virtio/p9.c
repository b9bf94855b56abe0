// SPDX-License-Identifier: Apache-2.0
// virtio-9p (virtio 1.2, 5.5 "unsupported" device 9): one request queue feeding the 9p server.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
};

static void p9_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_p9 *p = dev->priv;
	struct virtq_chain chain;
	int r;
	while ((r = virtq_pop(&dev->vq[q], dev->mem, &chain)) > 0) {
		size_t len = iov_to_buf(chain.out, chain.nout, p->req, P9_MSIZE_MAX);
		size_t cap = MIN(chain.in_len, (uint64_t)P9_MSIZE_MAX);
		size_t n = p9_server_handle(p->srv, p->req, len, p->resp, cap);
		size_t put = buf_to_iov(chain.in, chain.nin, p->resp, n);
		virtq_push(&dev->vq[q], dev->mem, chain.head, (uint32_t)put);
	}
	if (r < 0)
		virtio_needs_reset(dev, "9p queue");
	virtio_signal_used(dev, q);
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


static void p9_destroy(struct virtio_dev *dev);

static const struct virtio_dev_ops p9_ops = {
	.notify = p9_notify, .config = p9_config, .destroy = p9_destroy};

int virtio_p9_new(struct p9_server *srv, const char *tag, struct virtio_dev **out)
{
	size_t tl = strlen(tag);
	if (tl == 0 || tl > P9_TAG_MAX)
		return -EINVAL;
	struct virtio_p9 *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->req = malloc(P9_MSIZE_MAX);
	p->resp = malloc(P9_MSIZE_MAX);
	if (!p->req || !p->resp) {
		free(p->req);
		free(p->resp);
		free(p);
		return -ENOMEM;
	}
	p->srv = srv;
	p->tag_len = (uint16_t)tl;
	memcpy(p->tag, tag, tl);
	virtio_dev_init(&p->dev, VIRTIO_ID_9P, VIRTIO_9P_MOUNT_TAG, 1, &p9_ops, p);
	*out = &p->dev;
	return 0;
}

static void p9_destroy(struct virtio_dev *dev)
{
	struct virtio_p9 *p = dev->priv;
	p9_server_free(p->srv);
	free(p->req);
	free(p->resp);
	free(p);
}
