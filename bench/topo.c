/*
 * Namespaces, links and processes of one macro-benchmark run: see topo.h.
 * Namespaces are made with ip(8) ("ip netns add" keeps one bound under
 * /run/netns/NAME) and entered with setns() in a forked child before it
 * executes the peer, so the harness itself never changes namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bench.h"
#include "topo.h"

#define MAX_LIVE	4
#define STOP_GRACE_MS	2000

static struct topo *live_topos[MAX_LIVE];
static struct proc *live_procs[2 * MAX_LIVE];
static int seq;
static int hooks_set;

static const char *ip_paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };

static const char *
ip_bin(void)
{
	size_t i;

	for (i = 0; i < sizeof(ip_paths) / sizeof(ip_paths[0]); i++)
		if (access(ip_paths[i], X_OK) == 0)
			return ip_paths[i];
	return NULL;
}

/* ---- emergency cleanup ---- */

static void
cleanup_all(void)
{
	int i;

	for (i = 0; i < 2 * MAX_LIVE; i++)
		if (live_procs[i] != NULL)
			proc_stop(live_procs[i]);
	for (i = 0; i < MAX_LIVE; i++)
		if (live_topos[i] != NULL)
			topo_down(live_topos[i]);
}

static void
on_fatal_signal(int sig)
{
	int i;

	/* What is safe here first (our children die at once), then the rest through exit's hook. */
	for (i = 0; i < 2 * MAX_LIVE; i++)
		if (live_procs[i] != NULL && live_procs[i]->pid > 0)
			kill(live_procs[i]->pid, SIGKILL);
	exit(128 + sig);
}

static void
set_hooks(void)
{
	struct sigaction sa;

	if (hooks_set)
		return;
	hooks_set = 1;
	atexit(cleanup_all);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void
track(void **tab, int n, void *p, int on)
{
	int i;

	for (i = 0; i < n; i++) {
		if (on && tab[i] == NULL) {
			tab[i] = p;
			return;
		}
		if (!on && tab[i] == p) {
			tab[i] = NULL;
			return;
		}
	}
}

/* ---- commands ---- */

static int
enter_ns(const char *ns)
{
	char path[128];
	int fd, r;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET);
	close(fd);
	return r == 0 ? 0 : -errno;
}

int
run_cmd(const char *ns, char *const argv[])
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (ns != NULL && enter_ns(ns) != 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ip(8) with the arguments up to a NULL; 0, or -1 with the command line in err. */
static int
ipcmd(char *err, size_t errlen, ...)
{
	char *argv[24];
	va_list ap;
	int n = 0, r;

	argv[n++] = (char *)ip_bin();
	va_start(ap, errlen);
	while (n < 23 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	r = run_cmd(NULL, argv);
	if (r != 0) {
		char cmd[256] = "";
		int i;

		for (i = 0; argv[i] != NULL; i++)
			snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
		snprintf(err, errlen, "'%s' failed (%d)", cmd, r);
		return -1;
	}
	return 0;
}

/* Writes a sysctl of namespace ns (/proc/sys/net is per namespace, as its reader sees it). */
static void
ns_sysctl(const char *ns, const char *path, const char *val)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd;

		if (enter_ns(ns) != 0)
			_exit(1);
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, val, strlen(val)) < 0)
			_exit(1);
		_exit(0);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* rm -rf, for our own directories only. */
static void
rm_tree(const char *path)
{
	if (path[0] == '\0')
		return;
	if (strncmp(path, "/tmp/shunt-bench-", 17) != 0 && strncmp(path, "/var/run/dpdk/shb", 17) != 0) {
		fprintf(stderr, "bench: refusing to remove %s\n", path);
		return;
	}
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
ns_del(const char *ns)
{
	char path[128];

	/* What `ip netns del` does: detach the namespace's bind mount, remove the file. */
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	umount2(path, MNT_DETACH);
	unlink(path);
}

/* ---- topologies ---- */

static int
have_memif(void)
{
	static const char *pats[] = {
		"/usr/lib/*/librte_net_memif.so*", "/usr/lib/*/dpdk/pmds-*/librte_net_memif.so*",
		"/usr/local/lib/*/librte_net_memif.so*", "/usr/local/lib/librte_net_memif.so*",
	};
	size_t i;
	glob_t g;
	int found = 0;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]) && !found; i++) {
		if (glob(pats[i], 0, NULL, &g) == 0)
			found = g.gl_pathc > 0;
		globfree(&g);
	}
	return found;
}

const char *
topo_unavailable(enum topo_kind kind)
{
	if (kind == TOPO_NONE)
		return NULL;
	if (geteuid() != 0)
		return "needs root (network namespaces)";
	if (ip_bin() == NULL)
		return "ip(8) is not installed";
	if (access("/run", W_OK) != 0)
		return "/run is not writable";
	if (kind == TOPO_MEMIF && !have_memif())
		return "DPDK's net_memif PMD is not installed";
	return NULL;
}

static int
add_ns(struct topo *t, char *err, size_t errlen)
{
	char *ns = t->ns[t->nns];
	char ipv6[] = "/proc/sys/net/ipv6/conf/all/disable_ipv6", ipv6d[] = "/proc/sys/net/ipv6/conf/default/disable_ipv6";

	snprintf(ns, sizeof(t->ns[0]), "shunt-bench-%d-%d-%c", (int)getpid(), seq, t->nns == 0 ? 's' : 'c');
	if (ipcmd(err, errlen, "netns", "add", ns, NULL) != 0)
		return -1;
	t->nns++;
	/* Nothing but what we send: no IPv6 router solicitations or DAD on the links. */
	ns_sysctl(ns, ipv6, "1");
	ns_sysctl(ns, ipv6d, "1");
	return ipcmd(err, errlen, "-n", ns, "link", "set", "lo", "up", NULL);
}

int
topo_up(struct topo *t, enum topo_kind kind, char *err, size_t errlen)
{
	const char *why = topo_unavailable(kind);
	char cidr[2][24];
	int i;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	set_hooks();
	seq++;
	t->cpu[TOPO_CLIENT] = bench_cpu();
	t->cpu[TOPO_SERVER] = bench_peer_cpu() >= 0 ? bench_peer_cpu() : bench_cpu();
	snprintf(t->dir, sizeof(t->dir), "/tmp/shunt-bench-%d-%d-XXXXXX", (int)getpid(), seq);
	if (mkdtemp(t->dir) == NULL) {
		snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
		t->dir[0] = '\0';
		return -1;
	}
	t->live = 1;
	track((void **)live_topos, MAX_LIVE, t, 1);
	if (kind == TOPO_NONE)
		return 0;
	if (add_ns(t, err, errlen) != 0)
		goto fail;
	switch (kind) {
	case TOPO_VETH:
		if (add_ns(t, err, errlen) != 0)
			goto fail;
		snprintf(t->ip[TOPO_SERVER], sizeof(t->ip[0]), "198.18.2.2");
		snprintf(t->ip[TOPO_CLIENT], sizeof(t->ip[0]), "198.18.2.1");
		t->prefix_len = 24;
		/* Both ends are called shb0, each in its own namespace: nothing appears in ours. */
		if (ipcmd(err, errlen, "link", "add", "shb0", "netns", t->ns[0], "type", "veth", "peer", "name", "shb0",
		    "netns", t->ns[1], NULL) != 0)
			goto fail;
		for (i = 0; i < 2; i++) {
			snprintf(cidr[i], sizeof(cidr[i]), "%s/%d", t->ip[i], t->prefix_len);
			if (ipcmd(err, errlen, "-n", t->ns[i], "addr", "add", cidr[i], "dev", "shb0", NULL) != 0 ||
			    ipcmd(err, errlen, "-n", t->ns[i], "link", "set", "shb0", "up", NULL) != 0)
				goto fail;
		}
		break;
	case TOPO_LO:
		snprintf(t->ns[1], sizeof(t->ns[1]), "%s", t->ns[0]);
		snprintf(t->ip[TOPO_SERVER], sizeof(t->ip[0]), "127.0.0.1");
		snprintf(t->ip[TOPO_CLIENT], sizeof(t->ip[0]), "127.0.0.1");
		t->prefix_len = 8;
		break;
	case TOPO_MEMIF:
		snprintf(t->ns[1], sizeof(t->ns[1]), "%s", t->ns[0]);
		snprintf(t->ip[TOPO_SERVER], sizeof(t->ip[0]), "198.18.3.2");
		snprintf(t->ip[TOPO_CLIENT], sizeof(t->ip[0]), "198.18.3.1");
		t->prefix_len = 24;
		for (i = 0; i < 2; i++) {
			snprintf(t->prefix[i], sizeof(t->prefix[i]), "shb%d-%d%c", (int)getpid(), seq, i == 0 ? 's' : 'c');
			snprintf(t->eal[i], sizeof(t->eal[i]),
			    "--no-huge -m 512 --no-pci --no-telemetry --log-level=*:error "
			    "--vdev=net_memif0,role=%s,id=0,socket=%s/memif.sock,socket-abstract=no,"
			    "mac=02:00:c6:12:03:0%d --file-prefix=%s -l %d",
			    i == 0 ? "server" : "client", t->dir, i == 0 ? 2 : 1, t->prefix[i], t->cpu[i]);
		}
		break;
	case TOPO_NONE:
		break;
	}
	return 0;
fail:
	topo_down(t);
	return -1;
}

void
topo_down(struct topo *t)
{
	char path[128];
	int i;

	if (!t->live)
		return;
	for (i = 0; i < t->nns; i++)
		ns_del(t->ns[i]);
	t->nns = 0;
	for (i = 0; i < 2; i++)
		if (t->prefix[i][0] != '\0') {
			snprintf(path, sizeof(path), "/var/run/dpdk/%s", t->prefix[i]);
			rm_tree(path);
		}
	/* SHUNT_BENCH_KEEP=1 keeps each run's logs (and memif socket) for a look afterwards. */
	if (getenv("SHUNT_BENCH_KEEP") != NULL && t->dir[0] != '\0')
		fprintf(stderr, "bench: kept %s\n", t->dir);
	else
		rm_tree(t->dir);
	t->live = 0;
	track((void **)live_topos, MAX_LIVE, t, 0);
}

/* ---- processes ---- */

int
proc_start(struct proc *p, const struct topo *t, const char *ns, int cpu, char *const argv[], char *const env[],
    const char *logname)
{
	int pfd[2];
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->out = -1;
	snprintf(p->log, sizeof(p->log), "%s/%s.log", t->dir, logname);
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };
		int fd, i, r;

		/* Dies with the harness, whatever happens to it; leaves no core file in our directory. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setrlimit(RLIMIT_CORE, &nocore);
		fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		dup2(pfd[1], 1);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		if (ns != NULL && (r = enter_ns(ns)) != 0) {
			fprintf(stderr, "bench: cannot enter netns %s: %s\n", ns, strerror(-r));
			_exit(126);
		}
		if (cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		for (i = 0; env != NULL && env[i] != NULL; i++)
			putenv(env[i]);
		execv(argv[0], argv);
		fprintf(stderr, "bench: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	p->pid = pid;
	p->out = pfd[0];
	track((void **)live_procs, 2 * MAX_LIVE, p, 1);
	return 0;
}

int
proc_wait_line(struct proc *p, const char *needle, char *line, size_t len, int timeout_ms)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		char *nl;

		/* Whole lines first. */
		while ((nl = memchr(p->buf, '\n', p->len)) != NULL) {
			size_t n = (size_t)(nl - p->buf);
			int match;

			p->buf[n] = '\0';
			match = strstr(p->buf, needle) != NULL;

			if (match) {
				size_t c = n < len - 1 ? n : len - 1;

				memcpy(line, p->buf, c);
				line[c] = '\0';
			}
			memmove(p->buf, nl + 1, p->len - n - 1);
			p->len -= n + 1;
			if (match)
				return 0;
		}
		{
			uint64_t now = bench_now_ns();
			struct pollfd pf = { .fd = p->out, .events = POLLIN };
			ssize_t r;

			if (now >= deadline)
				return -ETIMEDOUT;
			if (poll(&pf, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
				continue;
			if (p->len == sizeof(p->buf))
				p->len = 0;	/* a line longer than the buffer: not one of ours */
			r = read(p->out, p->buf + p->len, sizeof(p->buf) - p->len);
			if (r == 0)
				return -EPIPE;
			if (r > 0)
				p->len += (size_t)r;
		}
	}
}

ssize_t
proc_read_all(struct proc *p, char *out, size_t len, int timeout_ms)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	size_t n = p->len < len - 1 ? p->len : len - 1;

	memcpy(out, p->buf, n);
	p->len = 0;
	for (;;) {
		uint64_t now = bench_now_ns();
		struct pollfd pf = { .fd = p->out, .events = POLLIN };
		char scratch[4096];
		ssize_t r;

		if (now >= deadline) {
			out[n] = '\0';
			return -ETIMEDOUT;
		}
		if (poll(&pf, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
			continue;
		/* Past len, keep draining so that the program never blocks on a full pipe. */
		r = n < len - 1 ? read(p->out, out + n, len - 1 - n) : read(p->out, scratch, sizeof(scratch));
		if (r == 0)
			break;
		if (r > 0 && n < len - 1)
			n += (size_t)r;
	}
	out[n] = '\0';
	return (ssize_t)n;
}

int
proc_wait_exit(struct proc *p, int timeout_ms)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int st;

	if (p->pid <= 0)
		return -ECHILD;
	for (;;) {
		pid_t r = waitpid(p->pid, &st, WNOHANG);

		if (r == p->pid) {
			p->pid = 0;
			if (p->out >= 0)
				close(p->out);
			p->out = -1;
			track((void **)live_procs, 2 * MAX_LIVE, p, 0);
			return st;
		}
		if (bench_now_ns() >= deadline)
			return -ETIMEDOUT;
		usleep(2000);
	}
}

int
proc_stop(struct proc *p)
{
	int st;

	if (p->pid <= 0)
		return 0;
	kill(p->pid, SIGTERM);
	st = proc_wait_exit(p, STOP_GRACE_MS);
	if (st == -ETIMEDOUT) {
		kill(p->pid, SIGKILL);
		st = proc_wait_exit(p, 10000);
	}
	return st;
}

void
proc_log_tail(const struct proc *p, char *out, size_t len)
{
	char buf[4096];
	ssize_t n;
	int fd = open(p->log, O_RDONLY);
	char *s;

	out[0] = '\0';
	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf) - 1, lseek(fd, 0, SEEK_END) > (off_t)sizeof(buf) - 1 ?
	    lseek(fd, 0, SEEK_END) - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* The last few lines, on one line. */
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	s = buf + n;
	for (int lines = 0; s > buf && lines < 3; s--)
		if (s[-1] == '\n')
			lines++;
	for (char *c = s; *c != '\0'; c++)
		if (*c == '\n')
			*c = '|';
	snprintf(out, len, "%s", s);
}

int
line_field(const char *line, const char *key, double *v)
{
	size_t kl = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=') {
			*v = strtod(p + kl + 1, NULL);
			return 0;
		}
		p += kl;
	}
	return -ENOENT;
}
