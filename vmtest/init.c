// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * PID 1 of a vmtest guest, the only program in its initramfs.
 *
 * Debian's kernels build 9p, virtio-pci and overlayfs as modules, so before
 * the guest can see anything of the host this program:
 *   1. loads the modules named in /modules, in the order the host's modprobe
 *      worked out (vmtest/run), from the uncompressed copies beside it;
 *   2. mounts the host's root, which QEMU shares read-only over 9p, under an
 *      overlay whose upper layer is a tmpfs: the guest may write anywhere
 *      (tests, make, nginx's logs) and nothing it writes reaches the host;
 *   3. switches to that root and runs the command given after "--" on the
 *      kernel command line;
 *   4. stays PID 1, reaping orphans, until that command exits, then prints
 *      "vmtest-init: exit status N" (what vmtest/run looks for: no such line
 *      means the guest crashed or hung) and powers the machine off.
 * Any failure on the way is printed and powers off without that line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEW_ROOT "/newroot"

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vmtest-init: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void __attribute__((noreturn)) power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* reboot() only returns on failure; PID 1 must not exit (the kernel would panic) */
	for (;;)
		pause();
}

static void __attribute__((noreturn)) die(const char *what)
{
	say("%s: %s", what, strerror(errno));
	power_off();
}

static void must_mount(const char *src, const char *dst, const char *type, unsigned long flags,
		       const char *opts)
{
	char what[256];

	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, opts)) {
		snprintf(what, sizeof(what), "mount %s on %s (%s)", type ? type : src, dst,
			 opts ? opts : "");
		die(what);
	}
}

/* The kernel opened /dev/console before /dev existed here: open it again for our output. */
static void console(void)
{
	int fd = open("/dev/console", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static void load_module(const char *path)
{
	struct stat st;
	char *image;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		die(path);
	image = malloc(st.st_size);
	if (!image || read(fd, image, st.st_size) != st.st_size)
		die(path);
	close(fd);
	/* init_module, not finit_module: 5.10 cannot take a compressed file, the host decompressed */
	if (syscall(SYS_init_module, image, (unsigned long)st.st_size, "") && errno != EEXIST)
		die(path);
	free(image);
}

static void load_modules(void)
{
	char line[512];
	FILE *list = fopen("/modules", "re");

	if (!list)
		die("/modules");
	while (fgets(line, sizeof(line), list)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			load_module(line);
	}
	fclose(list);
}

/* The host's root over 9p (read-only), a tmpfs for the guest's writes, and an overlay of both. */
static void mount_root(void)
{
	/*
	 * cache=loose: the guest reads bash, perl and the tests many times and the shared tree
	 * does not change under it; msize: larger messages, fewer round trips through QEMU.
	 */
	must_mount("root", "/lower", "9p", MS_RDONLY,
		   "trans=virtio,version=9p2000.L,cache=loose,msize=512000");
	must_mount("tmpfs", "/rw", "tmpfs", 0, "mode=0755");
	mkdir("/rw/upper", 0755);
	mkdir("/rw/work", 0755);
	must_mount("overlay", NEW_ROOT, "overlay", 0,
		   "lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work");
	/* The host's /dev is only its nodes seen through 9p: the guest needs its own. */
	if (mount("/dev", NEW_ROOT "/dev", NULL, MS_MOVE, NULL))
		die("move /dev");
	if (chdir(NEW_ROOT) || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/"))
		die("switch to the new root");
}

int main(int argc, char **argv)
{
	pid_t child, pid;
	int status;

	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755"))
		power_off(); /* no console to say why: vmtest/run reports a guest without output */
	console();
	if (argc < 2) {
		say("no command: give it after \"--\" on the kernel command line");
		power_off();
	}
	load_modules();
	mount_root();

	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		/* its own session, so that the command and all it starts can be signalled together */
		setsid();
		execv(argv[1], argv + 1);
		die(argv[1]);
	}
	/* Orphans are reparented to PID 1: reap them all, and stop when the command has exited. */
	for (;;) {
		pid = wait(&status);
		if (pid < 0 && errno != EINTR)
			die("wait");
		if (pid == child)
			break;
	}
	if (WIFEXITED(status))
		say("exit status %d", WEXITSTATUS(status));
	else
		say("killed by signal %d", WTERMSIG(status));
	power_off();
}
