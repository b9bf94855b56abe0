// SPDX-License-Identifier: Apache-2.0
// 9P2000.L server: decodes each request through a bounded cursor and serves it with *at()
// calls relative to the fid's O_PATH fd, so no path string from the guest is ever resolved
// by the host beyond one component, no symlink is followed, and ".." stops at the root.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../util.h"
#include "fid.h"
#include "proto.h"
#include "server.h"
#include "wire.h"

#define P9_IOHDRSZ 24 // bytes of a Rread/Twrite that are not data
#define P9_VERSION "9P2000.L"

struct p9_server {
	int root_fd;  // O_PATH | O_DIRECTORY of the share
	dev_t root_dev;
	ino_t root_ino;
	int proc_fd;  // the process's fd directory: turns an O_PATH fd into an I/O fd without a path
	char fd_dir[32]; // its path, for the calls that take only a path (xattrs, link of an fd)
	bool readonly;
	uint32_t msize;
	struct p9_fids fids;
	// Run by a user other than root, the server cannot give files away: the guest's root is
	// that user, as a rootless container's root is the user who started it.
	bool map_root;
	uid_t host_uid;
	gid_t host_gid;
};

static uint32_t uid_to_guest(const struct p9_server *srv, uid_t u)
{
	return srv->map_root && u == srv->host_uid ? 0 : u;
}

static uint32_t gid_to_guest(const struct p9_server *srv, gid_t g)
{
	return srv->map_root && g == srv->host_gid ? 0 : g;
}

int p9_server_new(const char *root, const char *fd_dir, bool readonly, struct p9_server **out)
{
	fd_dir = fd_dir ? fd_dir : "/proc/self/fd";
	if (strlen(fd_dir) >= sizeof(((struct p9_server *)0)->fd_dir))
		return -ENAMETOOLONG;
	_cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	_cleanup_close_ int proc_fd = open(fd_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return -errno;
	struct stat st;
	if (fstat(root_fd, &st) < 0)
		return -errno;
	struct p9_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->root_fd = steal_fd(&root_fd);
	srv->proc_fd = steal_fd(&proc_fd);
	snprintf(srv->fd_dir, sizeof(srv->fd_dir), "%s", fd_dir);
	srv->root_dev = st.st_dev;
	srv->root_ino = st.st_ino;
	srv->readonly = readonly;
	srv->msize = P9_MSIZE_MAX;
	srv->host_uid = geteuid();
	srv->host_gid = getegid();
	srv->map_root = srv->host_uid != 0;
	*out = srv;
	return 0;
}

void p9_server_free(struct p9_server *srv)
{
	if (!srv)
		return;
	p9_fids_free(&srv->fids);
	close(srv->root_fd);
	close(srv->proc_fd);
	free(srv);
}

// ---- helpers ----

// A single path component from the guest, as a C string: never empty, ".", "..", or holding
// '/' or NUL.
static int take_name(struct p9_str s, char buf[NAME_MAX + 1])
{
	if (s.len == 0 || s.len > NAME_MAX || memchr(s.s, '/', s.len) || memchr(s.s, '\0', s.len))
		return -EINVAL;
	memcpy(buf, s.s, s.len);
	buf[s.len] = '\0';
	if (!strcmp(buf, ".") || !strcmp(buf, ".."))
		return -EINVAL;
	return 0;
}

// Opens one component beneath dirfd, as O_PATH, never following a symlink or leaving dirfd.
static int open_child(int dirfd, const char *name)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

static int stat_fd(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static struct p9_qid qid_of(const struct p9_server *srv, const struct stat *st)
{
	struct p9_qid q = {.type = P9_QTFILE, .version = 0, .path = st->st_ino};
	if (S_ISDIR(st->st_mode))
		q.type = P9_QTDIR;
	else if (S_ISLNK(st->st_mode))
		q.type = P9_QTSYMLINK;
	if (st->st_dev != srv->root_dev) // keep inodes of nested host mounts apart
		q.path ^= (uint64_t)st->st_dev << 44;
	return q;
}

static bool is_root(const struct p9_server *srv, const struct stat *st)
{
	return st->st_dev == srv->root_dev && st->st_ino == srv->root_ino;
}

// An I/O fd for an O_PATH fd, through /proc/self/fd (the VMM's own, not the guest's).
static int reopen(const struct p9_server *srv, int fd, int flags)
{
	char name[16];
	snprintf(name, sizeof(name), "%d", fd);
	int r = openat(srv->proc_fd, name, flags | O_CLOEXEC | O_NOCTTY);
	return r < 0 ? -errno : r;
}

static struct p9_fid *fid_of(struct p9_server *srv, struct p9_in *in)
{
	uint32_t id = p9_get_u32(in);
	return in->err ? NULL : p9_fid_get(&srv->fids, id);
}

// Files created on behalf of the guest belong to the attaching user when the server may chown.
static void own(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	if (geteuid() == 0 && fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		log_debug("9p: chown %s: %s", name, strerror(errno));
}

static int reply_qid_at(struct p9_server *srv, struct p9_out *out, int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	struct p9_qid q = qid_of(srv, &st);
	p9_put_qid(out, &q);
	return 0;
}

// The checks every op that makes or removes a name in directory fid `d` starts with.
static int name_op_check(const struct p9_server *srv, const struct p9_in *in,
			 const struct p9_fid *d, struct p9_str s, char name[NAME_MAX + 1])
{
	if (in->err)
		return -EINVAL;
	if (!d)
		return -EBADF;
	if (srv->readonly)
		return -EROFS;
	return take_name(s, name);
}

// The reply of Tlopen and Tlcreate: the file's qid and the largest I/O the client may ask.
static void reply_opened(const struct p9_server *srv, struct p9_out *out, const struct stat *st)
{
	struct p9_qid q = qid_of(srv, st);
	p9_put_qid(out, &q);
	p9_put_u32(out, srv->msize - P9_IOHDRSZ);
}

// ---- session ----

static int op_version(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	uint32_t msize = p9_get_u32(in);
	struct p9_str ver = p9_get_str(in);
	if (in->err)
		return -EINVAL;
	// Refused before it is stored: every I/O size is msize less a header.
	if (msize < 4096)
		return -EINVAL;
	p9_fids_free(&srv->fids);
	srv->msize = MIN(msize, P9_MSIZE_MAX);
	p9_put_u32(out, srv->msize);
	if (ver.len == strlen(P9_VERSION) && !memcmp(ver.s, P9_VERSION, ver.len))
		p9_put_str(out, P9_VERSION, strlen(P9_VERSION));
	else
		p9_put_str(out, "unknown", 7);
	return 0;
}

static int op_attach(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	uint32_t fid = p9_get_u32(in);
	p9_get_u32(in); // afid: no authentication
	p9_get_str(in); // uname
	p9_get_str(in); // aname: a share is one directory
	uint32_t n_uname = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	int fd = fcntl(srv->root_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	uid_t uid = n_uname == P9_NOFID ? 0 : n_uname;
	int r = p9_fid_add(&srv->fids, fid, fd, uid, S_IFDIR);
	if (r < 0)
		return r;
	struct stat st;
	if ((r = stat_fd(srv->root_fd, &st)) < 0)
		return r;
	struct p9_qid q = qid_of(srv, &st);
	p9_put_qid(out, &q);
	return 0;
}

static int op_flush(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	(void)out;
	p9_get_u16(in); // requests are served one at a time: nothing is ever in flight
	return in->err ? -EINVAL : 0;
}

// ---- walking ----

static int walk_one(struct p9_server *srv, int cur, struct p9_str s, int *next)
{
	struct stat st;
	int r;
	if (s.len == 2 && !memcmp(s.s, "..", 2)) {
		if ((r = stat_fd(cur, &st)) < 0)
			return r;
		if (is_root(srv, &st)) // ".." of the root is the root
			r = fcntl(cur, F_DUPFD_CLOEXEC, 0);
		else
			r = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (r < 0)
			return -errno;
		*next = r;
		return 0;
	}
	if (s.len == 1 && s.s[0] == '.') {
		r = fcntl(cur, F_DUPFD_CLOEXEC, 0);
		if (r < 0)
			return -errno;
		*next = r;
		return 0;
	}
	char name[NAME_MAX + 1];
	if ((r = take_name(s, name)) < 0)
		return r;
	if ((r = open_child(cur, name)) < 0)
		return r;
	*next = r;
	return 0;
}

static int op_walk(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint32_t newfid = p9_get_u32(in);
	uint16_t n = p9_get_u16(in);
	if (in->err || n > P9_MAXWELEM)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (newfid != f - srv->fids.v && p9_fid_get(&srv->fids, newfid))
		return -EEXIST;

	_cleanup_close_ int cur = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return -errno;
	uid_t uid = f->uid;
	mode_t type = f->type;
	p9_put_u16(out, 0); // nwqid, patched below
	uint16_t done = 0;
	for (; done < n; done++) {
		struct p9_str s = p9_get_str(in);
		if (in->err)
			return -EINVAL;
		int next = -1;
		int r = walk_one(srv, cur, s, &next);
		struct stat st;
		if (r == 0 && (r = stat_fd(next, &st)) < 0)
			close(next);
		if (r < 0) {
			if (done == 0)
				return r;
			break; // a partial walk: the qids so far, no new fid
		}
		close(cur);
		cur = next;
		type = st.st_mode & S_IFMT;
		struct p9_qid q = qid_of(srv, &st);
		p9_put_qid(out, &q);
	}
	out->buf[P9_HDR_SIZE] = (uint8_t)done;
	out->buf[P9_HDR_SIZE + 1] = (uint8_t)(done >> 8);
	if (done < n)
		return 0;
	uint32_t oldid = (uint32_t)(f - srv->fids.v);
	if (newfid == oldid) {
		if (f->io_fd >= 0)
			return -EBUSY;
		close(f->fd);
		f->fd = steal_fd(&cur);
		f->type = type;
		return 0;
	}
	return p9_fid_add(&srv->fids, newfid, steal_fd(&cur), uid, type);
}

// ---- attributes ----

static int op_getattr(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	p9_get_u64(in); // request mask: the basic set is always returned
	if (in->err)
		return -EINVAL;
	if (!f)
		return -EBADF;
	struct stat st;
	int r = stat_fd(f->fd, &st);
	if (r < 0)
		return r;
	struct p9_qid q = qid_of(srv, &st);
	p9_put_u64(out, P9_GETATTR_BASIC);
	p9_put_qid(out, &q);
	p9_put_u32(out, st.st_mode);
	p9_put_u32(out, uid_to_guest(srv, st.st_uid));
	p9_put_u32(out, gid_to_guest(srv, st.st_gid));
	p9_put_u64(out, st.st_nlink);
	p9_put_u64(out, st.st_rdev);
	p9_put_u64(out, (uint64_t)st.st_size);
	p9_put_u64(out, (uint64_t)st.st_blksize);
	p9_put_u64(out, (uint64_t)st.st_blocks);
	p9_put_u64(out, (uint64_t)st.st_atim.tv_sec);
	p9_put_u64(out, (uint64_t)st.st_atim.tv_nsec);
	p9_put_u64(out, (uint64_t)st.st_mtim.tv_sec);
	p9_put_u64(out, (uint64_t)st.st_mtim.tv_nsec);
	p9_put_u64(out, (uint64_t)st.st_ctim.tv_sec);
	p9_put_u64(out, (uint64_t)st.st_ctim.tv_nsec);
	for (int i = 0; i < 4; i++) // btime sec/nsec, gen, data_version
		p9_put_u64(out, 0);
	return 0;
}

static int op_setattr(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_fid *f = fid_of(srv, in);
	uint32_t valid = p9_get_u32(in);
	uint32_t mode = p9_get_u32(in);
	uint32_t uid = p9_get_u32(in);
	uint32_t gid = p9_get_u32(in);
	uint64_t size = p9_get_u64(in);
	struct timespec ts[2];
	ts[0].tv_sec = (time_t)p9_get_u64(in);
	ts[0].tv_nsec = (long)p9_get_u64(in);
	ts[1].tv_sec = (time_t)p9_get_u64(in);
	ts[1].tv_nsec = (long)p9_get_u64(in);
	if (in->err)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (srv->readonly)
		return -EROFS;
	bool link = S_ISLNK(f->type);
	char name[16];
	snprintf(name, sizeof(name), "%d", f->fd);

	if ((valid & P9_SETATTR_MODE) && !link &&
	    fchmodat(srv->proc_fd, name, mode & 07777, 0) < 0)
		return -errno;
	if (valid & (P9_SETATTR_UID | P9_SETATTR_GID)) {
		uid_t u = (valid & P9_SETATTR_UID) ? uid : (uid_t)-1;
		gid_t g = (valid & P9_SETATTR_GID) ? gid : (gid_t)-1;
		if (srv->map_root && u == 0)
			u = srv->host_uid;
		if (srv->map_root && g == 0)
			g = srv->host_gid;
		if (fchownat(f->fd, "", u, g, AT_EMPTY_PATH) < 0)
			return -errno;
	}
	if (valid & P9_SETATTR_SIZE) {
		if (!S_ISREG(f->type))
			return -EINVAL;
		int fd = f->io_fd;
		_cleanup_close_ int tmp = -1;
		if (fd < 0 || (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) {
			if ((tmp = reopen(srv, f->fd, O_WRONLY)) < 0)
				return tmp;
			fd = tmp;
		}
		if (size > INT64_MAX || ftruncate(fd, (off_t)size) < 0)
			return size > INT64_MAX ? -EFBIG : -errno;
	}
	if ((valid & (P9_SETATTR_ATIME | P9_SETATTR_MTIME)) && !link) {
		if (!(valid & P9_SETATTR_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_ATIME_SET))
			ts[0].tv_nsec = UTIME_NOW;
		if (!(valid & P9_SETATTR_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		else if (!(valid & P9_SETATTR_MTIME_SET))
			ts[1].tv_nsec = UTIME_NOW;
		if (utimensat(srv->proc_fd, name, ts, 0) < 0)
			return -errno;
	}
	return 0;
}

static int op_statfs(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	if (in->err)
		return -EINVAL;
	if (!f)
		return -EBADF;
	struct statfs sf;
	if (fstatfs(f->fd, &sf) < 0)
		return -errno;
	uint64_t fsid;
	memcpy(&fsid, &sf.f_fsid, sizeof(fsid));
	p9_put_u32(out, (uint32_t)sf.f_type);
	p9_put_u32(out, (uint32_t)sf.f_bsize);
	p9_put_u64(out, sf.f_blocks);
	p9_put_u64(out, sf.f_bfree);
	p9_put_u64(out, sf.f_bavail);
	p9_put_u64(out, sf.f_files);
	p9_put_u64(out, sf.f_ffree);
	p9_put_u64(out, fsid);
	p9_put_u32(out, (uint32_t)sf.f_namelen);
	return 0;
}

static int op_readlink(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	if (in->err)
		return -EINVAL;
	if (!f)
		return -EBADF;
	char buf[PATH_MAX];
	ssize_t n = readlinkat(f->fd, "", buf, sizeof(buf));
	if (n < 0)
		return -errno;
	p9_put_str(out, buf, (size_t)n);
	return 0;
}

// ---- opening and creating ----

// Linux open flags the guest may pass through; creation goes through Tlcreate only.
#define P9_OPEN_FLAGS (O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECTORY | O_NONBLOCK | O_DSYNC | O_SYNC)

static int open_flags(const struct p9_server *srv, uint32_t flags, int *out)
{
	int f = (int)(flags & P9_OPEN_FLAGS);
	if (srv->readonly && ((f & O_ACCMODE) != O_RDONLY || (f & O_TRUNC)))
		return -EROFS;
	*out = f;
	return 0;
}

static int op_lopen(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint32_t flags = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (f->io_fd >= 0)
		return -EBUSY;
	int oflags, r;
	if ((r = open_flags(srv, flags, &oflags)) < 0)
		return r;
	if (S_ISLNK(f->type))
		return -ELOOP;
	if (!S_ISREG(f->type) && !S_ISDIR(f->type))
		return -EPERM; // host device nodes, fifos and sockets are never opened for the guest
	struct stat st;
	if ((r = stat_fd(f->fd, &st)) < 0)
		return r;
	if ((st.st_mode & S_IFMT) != f->type)
		return -ESTALE;
	if ((r = reopen(srv, f->fd, oflags)) < 0)
		return r;
	f->io_fd = r;
	reply_opened(srv, out, &st);
	return 0;
}

static int op_lcreate(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	struct p9_str s = p9_get_str(in);
	uint32_t flags = p9_get_u32(in);
	uint32_t mode = p9_get_u32(in);
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int oflags, r;
	if ((r = name_op_check(srv, in, f, s, name)) < 0 || (r = open_flags(srv, flags, &oflags)) < 0)
		return r;
	if (f->io_fd >= 0)
		return -EBUSY; // the fid's open file would be lost (a host fd leaked per request)
	// O_EXCL: never open something that already exists there, such as a device node.
	_cleanup_close_ int io = openat(f->fd, name, oflags | O_CREAT | O_EXCL | O_NOFOLLOW |
						O_CLOEXEC | O_NOCTTY, mode & 07777);
	if (io < 0)
		return -errno;
	own(f->fd, name, f->uid, gid);
	int path_fd = open_child(f->fd, name);
	if (path_fd < 0)
		return path_fd;
	struct stat st;
	if (fstat(io, &st) < 0) {
		close(path_fd);
		return -errno;
	}
	close(f->fd);
	f->fd = path_fd;
	f->io_fd = steal_fd(&io);
	f->type = S_IFREG;
	reply_opened(srv, out, &st);
	return 0;
}

static int op_mkdir(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	struct p9_str s = p9_get_str(in);
	uint32_t mode = p9_get_u32(in);
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = name_op_check(srv, in, f, s, name);
	if (r < 0)
		return r;
	if (mkdirat(f->fd, name, mode & 07777) < 0)
		return -errno;
	own(f->fd, name, f->uid, gid);
	return reply_qid_at(srv, out, f->fd, name);
}

static int op_symlink(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	struct p9_str s = p9_get_str(in);
	struct p9_str t = p9_get_str(in);
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = name_op_check(srv, in, f, s, name);
	if (r < 0)
		return r;
	if (t.len == 0 || memchr(t.s, '\0', t.len))
		return -EINVAL;
	char target[UINT16_MAX + 1];
	memcpy(target, t.s, t.len);
	target[t.len] = '\0';
	// The link is stored as text; the host never follows it on the guest's behalf.
	if (symlinkat(target, f->fd, name) < 0)
		return -errno;
	own(f->fd, name, f->uid, gid);
	return reply_qid_at(srv, out, f->fd, name);
}

static int op_mknod(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	struct p9_str s = p9_get_str(in);
	uint32_t mode = p9_get_u32(in);
	p9_get_u32(in); // major
	p9_get_u32(in); // minor
	uint32_t gid = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = name_op_check(srv, in, f, s, name);
	if (r < 0)
		return r;
	// A device node made on the host would be a real host device: only fifos and sockets.
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode))
		return -EPERM;
	if (mknodat(f->fd, name, mode & (S_IFMT | 07777), 0) < 0)
		return -errno;
	own(f->fd, name, f->uid, gid);
	return reply_qid_at(srv, out, f->fd, name);
}

static int op_link(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_fid *d = fid_of(srv, in);
	struct p9_fid *f = fid_of(srv, in);
	struct p9_str s = p9_get_str(in);
	char name[NAME_MAX + 1];
	int r = name_op_check(srv, in, d, s, name);
	if (r < 0)
		return r;
	if (!f)
		return -EBADF;
	if (S_ISDIR(f->type))
		return -EPERM;
	if (linkat(f->fd, "", d->fd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if ((errno != ENOENT && errno != EPERM) || S_ISLNK(f->type))
		return -errno;
	// Without CAP_DAC_READ_SEARCH: link the file the O_PATH fd names, via our /proc.
	char path[48];
	snprintf(path, sizeof(path), "%s/%d", srv->fd_dir, f->fd);
	return linkat(AT_FDCWD, path, d->fd, name, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
}

static int op_renameat(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_fid *od = fid_of(srv, in);
	struct p9_str os = p9_get_str(in);
	struct p9_fid *nd = fid_of(srv, in);
	struct p9_str ns = p9_get_str(in);
	char oname[NAME_MAX + 1], nname[NAME_MAX + 1];
	int r;
	if ((r = name_op_check(srv, in, od, os, oname)) < 0 ||
	    (r = name_op_check(srv, in, nd, ns, nname)) < 0)
		return r;
	return renameat(od->fd, oname, nd->fd, nname) < 0 ? -errno : 0;
}

static int op_unlinkat(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_fid *d = fid_of(srv, in);
	struct p9_str s = p9_get_str(in);
	uint32_t flags = p9_get_u32(in);
	char name[NAME_MAX + 1];
	int r = name_op_check(srv, in, d, s, name);
	if (r < 0)
		return r;
	return unlinkat(d->fd, name, (int)(flags & AT_REMOVEDIR)) < 0 ? -errno : 0;
}

// ---- data ----

// ---- extended attributes ----
// Only the user.* namespace: the others carry host security state (security.capability,
// trusted.*, ACLs) that a guest must neither read nor set. Set and read through the fid's
// /proc/self/fd link, which names exactly the fid's file and is never followed further.

#define XATTR_MAX 65536 // XATTR_SIZE_MAX of Linux

static bool xattr_name_ok(struct p9_str name)
{
	return name.len > 5 && name.len < 256 && !memcmp(name.s, "user.", 5) &&
	       !memchr(name.s, '\0', name.len);
}

static void fd_link(const struct p9_server *srv, int fd, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%d", srv->fd_dir, fd);
}

// The value of one attribute, or (empty name) the user.* names, into x.
static int xattr_fetch(const struct p9_server *srv, int fd, const char *name, struct p9_xattr *x)
{
	char path[48];
	fd_link(srv, fd, path, sizeof(path));
	// Sized from the value (asked with size 0 first), so a fid holds what it reads, not
	// XATTR_MAX; a value that grew in between is asked again.
	ssize_t n = -1;
	for (int tries = 0; tries < 4; tries++) {
		n = name[0] ? getxattr(path, name, NULL, 0) : listxattr(path, NULL, 0);
		if (n < 0)
			return errno == ENOTSUP && !name[0] ? 0 : -errno; // no xattrs at all: an empty list
		size_t size = MIN((size_t)n, (size_t)XATTR_MAX);
		free(x->value);
		x->value = malloc(size ? size : 1);
		if (!x->value)
			return -ENOMEM;
		n = name[0] ? getxattr(path, name, x->value, size) : listxattr(path, (char *)x->value, size);
		if (n >= 0 || errno != ERANGE)
			break;
	}
	if (n < 0)
		return errno == ENOTSUP && !name[0] ? 0 : -errno;
	x->len = (size_t)n;
	if (name[0])
		return 0;
	size_t keep = 0; // the list: user.* names only
	for (size_t i = 0; i < x->len;) {
		size_t l = strnlen((char *)x->value + i, x->len - i) + 1;
		if (l > 5 && !memcmp(x->value + i, "user.", 5)) {
			memmove(x->value + keep, x->value + i, l);
			keep += l;
		}
		i += l;
	}
	x->len = keep;
	return 0;
}

static int op_xattrwalk(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint32_t newfid = p9_get_u32(in);
	struct p9_str name = p9_get_str(in);
	if (in->err)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (name.len && !xattr_name_ok(name))
		return -EOPNOTSUPP;
	struct p9_xattr *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	memcpy(x->name, name.s, name.len);
	int r = xattr_fetch(srv, f->fd, x->name, x);
	int fd = r < 0 ? -1 : fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	if (r == 0 && fd < 0)
		r = -errno;
	uid_t uid = f->uid;
	mode_t type = f->type;
	if (r == 0)
		r = p9_fid_add(&srv->fids, newfid, fd, uid, type); // f may move: not used after this
	if (r < 0) {
		free(x->value);
		free(x);
		return r;
	}
	p9_fid_get(&srv->fids, newfid)->xattr = x;
	p9_put_u64(out, x->len);
	return 0;
}

static int op_xattrcreate(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_fid *f = fid_of(srv, in);
	struct p9_str name = p9_get_str(in);
	uint64_t size = p9_get_u64(in);
	uint32_t flags = p9_get_u32(in);
	if (in->err || (flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE)))
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (!xattr_name_ok(name))
		return -EOPNOTSUPP;
	if (srv->readonly)
		return -EROFS;
	if (size > XATTR_MAX)
		return -E2BIG;
	if (f->xattr || f->io_fd >= 0)
		return -EBUSY;
	struct p9_xattr *x = calloc(1, sizeof(*x));
	if (!x || !(x->value = malloc(size ? size : 1))) {
		free(x);
		return -ENOMEM;
	}
	memcpy(x->name, name.s, name.len);
	x->size = size;
	x->flags = (int)flags;
	x->create = true;
	f->xattr = x;
	return 0;
}

static int xattr_read(struct p9_server *srv, struct p9_xattr *x, uint64_t off, uint32_t count,
		      struct p9_out *out)
{
	if (x->create)
		return -EBADF;
	count = MIN(count, srv->msize - P9_IOHDRSZ);
	size_t n = off >= x->len ? 0 : MIN((size_t)count, x->len - (size_t)off);
	p9_put_u32(out, (uint32_t)n);
	uint8_t *data = p9_put_space(out, n);
	if (!data)
		return -ENOSPC;
	if (n) // an offset past the end reads nothing: value + off would point nowhere
		memcpy(data, x->value + off, n);
	return 0;
}

static int xattr_write(struct p9_xattr *x, uint64_t off, const uint8_t *data, uint32_t count,
		       struct p9_out *out)
{
	if (!x->create)
		return -EBADF;
	if (off > x->size || count > x->size - off)
		return -ENOSPC;
	memcpy(x->value + off, data, count);
	x->len = MAX(x->len, (size_t)(off + count));
	p9_put_u32(out, count);
	return 0;
}

// At the clunk of a created xattr: set it (size 0 with XATTR_REPLACE is how Linux removes one).
static int xattr_commit(const struct p9_server *srv, struct p9_fid *f)
{
	struct p9_xattr *x = f->xattr;
	char path[48];
	fd_link(srv, f->fd, path, sizeof(path));
	if (x->len != x->size)
		return -EINVAL;
	int r = x->size == 0 && (x->flags & XATTR_REPLACE) ? removexattr(path, x->name)
							  : setxattr(path, x->name, x->value, x->size, x->flags);
	return r < 0 ? -errno : 0;
}

static int op_read(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint64_t off = p9_get_u64(in);
	uint32_t count = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	if (f && f->xattr)
		return xattr_read(srv, f->xattr, off, count, out);
	if (!f || f->io_fd < 0)
		return -EBADF;
	count = MIN(count, srv->msize - P9_IOHDRSZ);
	if (off > INT64_MAX)
		return -EINVAL;
	size_t at = out->len;
	p9_put_u32(out, 0);
	uint8_t *data = p9_put_space(out, count);
	if (!data)
		return -ENOSPC;
	ssize_t n = pread(f->io_fd, data, count, (off_t)off);
	if (n < 0)
		return -errno;
	out->len = at;
	p9_put_u32(out, (uint32_t)n);
	out->len += (size_t)n;
	return 0;
}

static int op_write(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint64_t off = p9_get_u64(in);
	uint32_t count = p9_get_u32(in);
	const uint8_t *data = p9_get_bytes(in, count);
	if (in->err || off > INT64_MAX)
		return -EINVAL;
	if (f && f->xattr)
		return xattr_write(f->xattr, off, data, count, out);
	if (!f || f->io_fd < 0)
		return -EBADF;
	if (srv->readonly)
		return -EROFS;
	ssize_t n = pwrite(f->io_fd, data, count, (off_t)off);
	if (n < 0)
		return -errno;
	p9_put_u32(out, (uint32_t)n);
	return 0;
}

static uint8_t dirent_qtype(unsigned char d_type)
{
	return d_type == DT_DIR ? P9_QTDIR : d_type == DT_LNK ? P9_QTSYMLINK : P9_QTFILE;
}

static int op_readdir(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint64_t off = p9_get_u64(in);
	uint32_t count = p9_get_u32(in);
	if (in->err || off > INT64_MAX)
		return -EINVAL;
	if (!f || f->io_fd < 0)
		return -EBADF;
	count = MIN(count, srv->msize - 11);
	if (lseek(f->io_fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	size_t at = out->len;
	p9_put_u32(out, 0);
	size_t start = out->len;
	char buf[16384];
	bool full = false;
	while (!full) {
		long n = syscall(SYS_getdents64, f->io_fd, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (long pos = 0; pos < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + pos);
			size_t nlen = strlen(d->d_name);
			size_t need = P9_QID_SIZE + 8 + 1 + 2 + nlen;
			if (out->len - start + need > count) {
				full = true;
				break;
			}
			struct p9_qid q = {.type = dirent_qtype(d->d_type), .path = d->d_ino};
			p9_put_qid(out, &q);
			p9_put_u64(out, (uint64_t)d->d_off);
			p9_put_u8(out, d->d_type);
			p9_put_str(out, d->d_name, nlen);
			pos += d->d_reclen;
		}
	}
	if (out->err)
		return -ENOSPC;
	uint32_t len = (uint32_t)(out->len - start);
	for (unsigned i = 0; i < 4; i++)
		out->buf[at + i] = (uint8_t)(len >> (8 * i));
	return 0;
}

static int op_fsync(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	struct p9_fid *f = fid_of(srv, in);
	uint32_t datasync = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	if (!f)
		return -EBADF;
	if (f->io_fd < 0)
		return 0;
	return (datasync ? fdatasync(f->io_fd) : fsync(f->io_fd)) < 0 ? -errno : 0;
}

static int lock_type(uint8_t t)
{
	return t == P9_LOCK_TYPE_RDLCK ? F_RDLCK : t == P9_LOCK_TYPE_WRLCK ? F_WRLCK : F_UNLCK;
}

static int op_lock(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint8_t type = p9_get_u8(in);
	p9_get_u32(in); // flags: the server never blocks, the client retries
	uint64_t start = p9_get_u64(in);
	uint64_t length = p9_get_u64(in);
	p9_get_u32(in); // proc_id
	p9_get_str(in); // client_id
	if (in->err || type > P9_LOCK_TYPE_UNLCK || start > INT64_MAX || length > INT64_MAX)
		return -EINVAL;
	if (!f || f->io_fd < 0)
		return -EBADF;
	struct flock fl = {.l_type = (short)lock_type(type), .l_whence = SEEK_SET,
			   .l_start = (off_t)start, .l_len = (off_t)length};
	uint8_t status = P9_LOCK_SUCCESS;
	if (fcntl(f->io_fd, F_OFD_SETLK, &fl) < 0)
		status = (errno == EAGAIN || errno == EACCES) ? P9_LOCK_BLOCKED : P9_LOCK_ERROR;
	p9_put_u8(out, status);
	return 0;
}

static int op_getlock(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	struct p9_fid *f = fid_of(srv, in);
	uint8_t type = p9_get_u8(in);
	uint64_t start = p9_get_u64(in);
	uint64_t length = p9_get_u64(in);
	uint32_t proc_id = p9_get_u32(in);
	struct p9_str client = p9_get_str(in);
	if (in->err || type > P9_LOCK_TYPE_UNLCK || start > INT64_MAX || length > INT64_MAX)
		return -EINVAL;
	if (!f || f->io_fd < 0)
		return -EBADF;
	struct flock fl = {.l_type = (short)lock_type(type), .l_whence = SEEK_SET,
			   .l_start = (off_t)start, .l_len = (off_t)length};
	if (fcntl(f->io_fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	p9_put_u8(out, fl.l_type == F_RDLCK ? P9_LOCK_TYPE_RDLCK
		       : fl.l_type == F_WRLCK ? P9_LOCK_TYPE_WRLCK : P9_LOCK_TYPE_UNLCK);
	p9_put_u64(out, (uint64_t)fl.l_start);
	p9_put_u64(out, (uint64_t)fl.l_len);
	p9_put_u32(out, fl.l_type == F_UNLCK ? proc_id : 0);
	p9_put_str(out, client.s, client.len);
	return 0;
}

static int op_clunk(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)out;
	uint32_t id = p9_get_u32(in);
	if (in->err)
		return -EINVAL;
	struct p9_fid *f = p9_fid_get(&srv->fids, id);
	int r = f && f->xattr && f->xattr->create ? xattr_commit(srv, f) : 0;
	int rr = p9_fid_remove(&srv->fids, id);
	return r ?: rr;
}

// Tremove needs the parent, which a fid does not keep: Linux uses Tunlinkat instead. The fid
// is clunked either way, as the protocol requires.
static int op_remove(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	op_clunk(srv, in, out);
	return -EOPNOTSUPP;
}

static int op_unsupported(struct p9_server *srv, struct p9_in *in, struct p9_out *out)
{
	(void)srv;
	(void)in;
	(void)out;
	return -EOPNOTSUPP;
}

// ---- dispatch ----

typedef int (*p9_op)(struct p9_server *, struct p9_in *, struct p9_out *);

static p9_op op_for(uint8_t type)
{
	switch (type) {
	case P9_TVERSION: return op_version;
	case P9_TATTACH: return op_attach;
	case P9_TFLUSH: return op_flush;
	case P9_TWALK: return op_walk;
	case P9_TGETATTR: return op_getattr;
	case P9_TSETATTR: return op_setattr;
	case P9_TSTATFS: return op_statfs;
	case P9_TREADLINK: return op_readlink;
	case P9_TLOPEN: return op_lopen;
	case P9_TLCREATE: return op_lcreate;
	case P9_TMKDIR: return op_mkdir;
	case P9_TSYMLINK: return op_symlink;
	case P9_TMKNOD: return op_mknod;
	case P9_TLINK: return op_link;
	case P9_TRENAMEAT: return op_renameat;
	case P9_TUNLINKAT: return op_unlinkat;
	case P9_TREAD: return op_read;
	case P9_TWRITE: return op_write;
	case P9_TREADDIR: return op_readdir;
	case P9_TFSYNC: return op_fsync;
	case P9_TLOCK: return op_lock;
	case P9_TGETLOCK: return op_getlock;
	case P9_TCLUNK: return op_clunk;
	case P9_TREMOVE: return op_remove;
	case P9_TXATTRWALK: return op_xattrwalk;
	case P9_TXATTRCREATE: return op_xattrcreate;
	case P9_TAUTH:    // no authentication: the transport is private to one guest
	case P9_TRENAME:  // Linux uses Trenameat
		return op_unsupported;
	default:
		return NULL;
	}
}

size_t p9_server_handle(struct p9_server *srv, const uint8_t *req, size_t len, uint8_t *resp,
			size_t cap)
{
	struct p9_in in;
	struct p9_out out;
	struct p9_hdr hdr;
	p9_in_init(&in, req, len);
	p9_out_init(&out, resp, MIN(cap, (size_t)srv->msize));
	int r = p9_parse_hdr(&in, &hdr);
	p9_op op = r == 0 ? op_for(hdr.type) : NULL;
	if (r == 0 && hdr.type == P9_TVERSION)
		p9_out_init(&out, resp, MIN(cap, (size_t)P9_MSIZE_MAX));
	if (r == 0 && !op)
		r = -EOPNOTSUPP;
	if (r == 0 && (hdr.type & 1)) // replies and odd numbers are never requests
		r = -EINVAL;
	if (r == 0) {
		p9_out_begin(&out, (uint8_t)(hdr.type + 1), hdr.tag);
		r = op(srv, &in, &out);
		if (r == 0)
			r = p9_out_finish(&out);
	}
	if (r < 0) {
		p9_out_begin(&out, P9_RLERROR, r == -EBADMSG ? P9_NOTAG : hdr.tag);
		p9_put_u32(&out, (uint32_t)-r);
		p9_out_finish(&out);
	}
	return out.len;
}
