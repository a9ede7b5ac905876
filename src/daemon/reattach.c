// mapnfs-reattach PID TARGET SOURCE [ro]
//
// Puts a copy of the mount at SOURCE (in our mount namespace) at TARGET in the mount namespace of
// process PID, in place of what is mounted there: after `mapnfs serve` restarts, a container still
// holds the dead FUSE mount of the daemon before (every access: ENOTCONN); this gives it the new
// one, so a running container keeps working without a restart.
//
// A separate, single-threaded program because setns(CLONE_NEWNS) refuses multi-threaded callers
// (Node is one). The copy is made with open_tree(OPEN_TREE_CLONE) before entering the namespace:
// a detached mount may be attached in another namespace, a plain bind mount may not (Linux >= 5.2).
// "ro" makes the copy read-only (a container that had the volume :ro keeps it so; Linux >= 5.12).
//
// Exit status 0 on success; otherwise one line on stderr naming the step that failed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct reattach_attr {
  unsigned long long attr_set;
  unsigned long long attr_clr;
  unsigned long long propagation;
  unsigned long long userns_fd;
};

static int fail(const char *step, const char *what) {
  fprintf(stderr, "mapnfs-reattach: %s %s: %s\n", step, what, strerror(errno));
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "ro") != 0)) {
    fprintf(stderr, "usage: mapnfs-reattach PID TARGET SOURCE [ro]\n");
    return 2;
  }
  char *end = NULL;
  long pid = strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || pid <= 0) {
    fprintf(stderr, "mapnfs-reattach: bad pid '%s'\n", argv[1]);
    return 2;
  }
  const char *target = argv[2];
  const char *source = argv[3];
  if (target[0] != '/' || source[0] != '/') {
    fprintf(stderr, "mapnfs-reattach: TARGET and SOURCE must be absolute paths\n");
    return 2;
  }

  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return fail("open_tree", source);
  if (argc == 5) {
    struct reattach_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) return fail("mount_setattr ro", source);
  }

  char ns[64], root[64];
  snprintf(ns, sizeof ns, "/proc/%ld/ns/mnt", pid);
  snprintf(root, sizeof root, "/proc/%ld/root", pid);
  int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return fail("open", ns);
  int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail("open", root);
  if (setns(nsfd, CLONE_NEWNS) != 0) return fail("setns", ns);
  // The process's own root (a container's pivot_root), so TARGET resolves as it sees its paths.
  if (fchdir(rootfd) != 0 || chroot(".") != 0) return fail("chroot", root);

  // The dead mount (lazily: nothing can use it anyway), then the live copy in its place.
  if (umount2(target, MNT_DETACH) != 0 && errno != EINVAL) return fail("umount", target);
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) != 0) return fail("move_mount to", target);
  return 0;
}
