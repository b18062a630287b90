/*
 * Topologies for the macro benchmarks: private network namespaces made for
 * one run and removed after it, and the processes that run in them.
 *
 *	TOPO_VETH   two namespaces joined by a veth pair: the server's end
 *	            198.18.2.2/24, the client's 198.18.2.1/24 (kernel TCP between
 *	            two "hosts")
 *	TOPO_LO     one namespace, loopback only (kernel TCP within a host)
 *	TOPO_MEMIF  one namespace with nothing in it but loopback; the two
 *	            processes are shunt stacks joined by DPDK net_memif over a
 *	            socket in the run's own temporary directory (198.18.3.2 server,
 *	            198.18.3.1 client), each with its own --file-prefix
 *	TOPO_NONE   no network at all: only the run's directory (for programs
 *	            that send nothing)
 *
 * Rules kept here: addresses in 198.18.0.0/15 only, no route anywhere,
 * every name carries the harness's PID and a sequence number, processes are
 * ended by the PID we got from fork() (they also die with the harness:
 * PR_SET_PDEATHSIG, and end themselves after a timeout), and everything is
 * removed after the run -- also when the harness exits early or is
 * interrupted (an atexit hook and SIGINT/SIGTERM handlers).
 */
#ifndef SHUNT_BENCH_TOPO_H
#define SHUNT_BENCH_TOPO_H

#include <stddef.h>
#include <sys/types.h>

enum topo_kind { TOPO_VETH, TOPO_LO, TOPO_MEMIF, TOPO_NONE };

#define TOPO_SERVER	0
#define TOPO_CLIENT	1

struct topo {
	enum topo_kind kind;
	int live;
	char dir[64];			/* the run's temporary directory */
	char ns[2][48];			/* server's and client's namespace (the same one for LO, MEMIF) */
	int nns;
	char ip[2][16];			/* server's and client's address */
	int prefix_len;
	char eal[2][512];		/* MEMIF: EAL arguments of server and client */
	char prefix[2][48];		/* MEMIF: their DPDK file prefixes (/var/run/dpdk/<prefix>) */
	int cpu[2];			/* where server and client are pinned */
};

/* Why a topology cannot be set up on this machine (not root, no memif PMD ...), or NULL. */
const char *topo_unavailable(enum topo_kind kind);
/* 0, or -1 with a reason in err.  Pins: server on bench_peer_cpu(), client on bench_cpu(). */
int topo_up(struct topo *t, enum topo_kind kind, char *err, size_t errlen);
void topo_down(struct topo *t);

struct proc {
	pid_t pid;
	int out;			/* its stdout, a pipe we read lines from */
	char log[96];			/* its stderr, a file in the run's directory */
	char buf[4096];			/* stdout bytes not yet consumed */
	size_t len;
};

/*
 * Starts argv[0] (an absolute path) in namespace ns (NULL: ours), pinned to
 * cpu (-1: not pinned), with env (NULL-terminated "K=V" list, may be NULL)
 * added to our environment.  0 or -errno.
 */
int proc_start(struct proc *p, const struct topo *t, const char *ns, int cpu, char *const argv[],
    char *const env[], const char *logname);
/*
 * Waits up to timeout_ms for a line of its stdout that contains needle;
 * copies it to line (lines before it are dropped).  0, -ETIMEDOUT, or
 * -EPIPE when its stdout closed first.
 */
int proc_wait_line(struct proc *p, const char *needle, char *line, size_t len, int timeout_ms);
/* Everything it writes to stdout until it closes it (or timeout_ms): bytes, or -ETIMEDOUT. */
ssize_t proc_read_all(struct proc *p, char *out, size_t len, int timeout_ms);
/* Waits up to timeout_ms for it to exit by itself; its exit status, or -ETIMEDOUT. */
int proc_wait_exit(struct proc *p, int timeout_ms);
/* SIGTERM, a grace period, SIGKILL; reaps it.  Returns its wait status. */
int proc_stop(struct proc *p);
/* The last lines of its stderr log (for error messages). */
void proc_log_tail(const struct proc *p, char *out, size_t len);

/* A key=value field of a line ("result items=5 p50=830"); 0 or -ENOENT. */
int line_field(const char *line, const char *key, double *v);

/* Runs argv to completion in ns (NULL: ours), output discarded; its exit status or -errno. */
int run_cmd(const char *ns, char *const argv[]);

#endif
