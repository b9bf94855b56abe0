// SPDX-License-Identifier: Apache-2.0
// The virtio devices clearvm plugs into virtio-mmio slots.
#pragma once

#include "../p9/server.h"
#include "mmio.h"

// virtio-9p: serves `srv` under mount tag `tag`. Takes ownership of srv.
int virtio_p9_new(struct p9_server *srv, const char *tag, struct virtio_dev **out);
// virtio-console with one port per fd in `fds` (multiport): what the guest writes to port i
// goes to fds[i]. The guest finds the ports by name (/sys/class/virtio-ports/*/name).
int virtio_console_new(const int *fds, const char *const *names, unsigned nports,
		       struct virtio_dev **out);
void virtio_dev_free(struct virtio_dev *dev);
