/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Java thread dumps (jstack [-l] PID, jcmd PID Thread.print, kill -3), JDK 8 to 21:
 *   2026-11-23 12:49:05
 *   Full thread dump OpenJDK 64-Bit Server VM (17.0.15+6 mixed mode, sharing):
 *   "monitor-1" #12 prio=5 os_prio=0 cpu=0.57ms elapsed=1.59s tid=0x… nid=0x2aa waiting for monitor entry  [0x…]
 *      java.lang.Thread.State: BLOCKED (on object monitor)
 *   	at Deadlock.lockBoth(Deadlock.java:12)
 *   	- waiting to lock <0x000000069ec19848> (a java.lang.Object)
 *   	- locked <0x000000069ec19838> (a java.lang.Object)
 *      Locked ownable synchronizers:
 *   	- <0x000000069ec199c0> (a java.util.concurrent.locks.ReentrantLock$NonfairSync)
 * The thread id is the native one (nid, hex before JDK 19, decimal after). "waiting to lock",
 * "parking to wait for" and "waiting to re-lock in wait()" name the lock a thread waits for;
 * "locked" and the ownable synchronizers the locks it holds, except the monitor it is wait()ing
 * on (jstack lists that one as "locked" too, though wait() released it). The JVM's own deadlock
 * summary ("Found one Java-level deadlock:" … "Found N deadlocks.") repeats stacks and is skipped:
 * ctrace finds the cycles itself. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "analyze/dumps/parse.h"
#include "lib/error.h"
#include "lib/banned.h"

/* Ends the current thread: drops the monitor it waits on from the locks it holds. */
static void thread_done(struct ct_dump_ctx *c)
{
	struct ct_thread *t = c->thread;
	if (t && c->waited_obj) {
		size_t k = 0;
		for (size_t i = 0; i < t->nlocks_held; i++) {
			if (strcmp(t->locks_held[i], c->waited_obj) == 0)
				free(t->locks_held[i]);
			else
				t->locks_held[k++] = t->locks_held[i];
		}
		t->nlocks_held = k;
	}
	free(c->waited_obj);
	c->waited_obj = NULL;
	c->owned_syncs = false;
	c->thread = NULL;
}

/* The "<0x…>" id after key in s, into *ret (allocated). 0 when absent, -errno. */
static int lock_id(struct ct_dump_ctx *c, const char *s, char **ret)
{
	const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (!lt || !gt || !ct_startswith(lt + 1, "0x"))
		return ct_dump_fail(c, "lock line without a <0x…> id");
	return ct_dump_set(c, ret, lt + 1, (size_t)(gt - lt - 1));
}

static int add_held(struct ct_dump_ctx *c, const char *s)
{
	struct ct_thread *t = c->thread;
	char *id = NULL;
	int err = lock_id(c, s, &id);
	if (err < 0)
		return err;
	for (size_t i = 0; i < t->nlocks_held; i++)
		if (strcmp(t->locks_held[i], id) == 0) { /* re-entered: listed once */
			free(id);
			return 0;
		}
	if (t->nlocks_held >= 4096) {
		free(id);
		return 0;
	}
	char **nl = realloc(t->locks_held, (t->nlocks_held + 1) * sizeof(*nl));
	if (!nl) {
		free(id);
		return ct_dump_fail(c, "out of memory");
	}
	t->locks_held = nl;
	t->locks_held[t->nlocks_held++] = id;
	return 0;
}

static int header_line(struct ct_dump_ctx *c, const char *s)
{
	thread_done(c);
	const char *nid = strstr(s, " nid=");
	const char *endq = NULL;
	/* the name ends at the last quote before the attributes */
	for (const char *q = strchr(s + 1, '"'); q && (!nid || q < nid); q = strchr(q + 1, '"'))
		endq = q;
	if (!endq)
		return ct_dump_fail(c, "malformed jstack thread line (want '\"NAME\" … nid=0x…')");
	uint64_t tid = 0;
	if (nid) {
		const char *p = nid + 5;
		if (!ct_dump_num(&p, &tid) || tid > 0x7fffffff)
			return ct_dump_fail(c, "jstack thread line with a bad nid");
	} else {
		const char *hash = strstr(endq, " #"); /* no nid: the Java thread number, better than none */
		if (hash) {
			const char *p = hash + 2;
			if (!ct_dump_num(&p, &tid) || tid > 0x7fffffff)
				tid = 0;
		}
	}
	struct ct_thread *t = ct_dump_thread(c, (pid_t)tid);
	if (!t)
		return -CT_EBADDUMP;
	return ct_dump_set(c, &t->name, s + 1, (size_t)(endq - s - 1));
}

static int state_line(struct ct_dump_ctx *c, const char *st)
{
	struct ct_thread *t = c->thread;
	if (!t)
		return 0;
	if (ct_startswith(st, "RUNNABLE")) {
		t->state = 'R';
		t->syscall_nr = CT_SYSCALL_NONE;
	} else if (ct_startswith(st, "BLOCKED") || ct_startswith(st, "WAITING") ||
		   ct_startswith(st, "TIMED_WAITING")) {
		t->state = 'S';
	}
	return 0;
}

/* "\tat pkg.Class.method(MODULE/File.java:12)", "(Native Method)", "(Unknown Source)" */
static int frame_line(struct ct_dump_ctx *c, const char *s, size_t n)
{
	if (!c->thread)
		return ct_dump_fail(c, "jstack frame ('at …') before any thread line");
	const char *p = s + 4, *end = s + n;
	const char *open = strchr(p, '(');
	if (!open || open == p || end[-1] != ')')
		return ct_dump_fail(c, "malformed jstack frame line (want 'at CLASS.METHOD(FILE:LINE)')");
	struct ct_frame *f;
	int err = ct_dump_frame(c, &f);
	if (err < 0 || !f)
		return err;
	if ((err = ct_dump_set(c, &f->function, p, (size_t)(open - p))) < 0)
		return err;
	const char *src = open + 1, *srcend = end - 1;
	const char *slash = memchr(src, '/', (size_t)(srcend - src));
	if (slash) {
		if ((err = ct_dump_set(c, &f->module, src, (size_t)(slash - src))) < 0)
			return err;
		src = slash + 1;
	}
	size_t flen, sn = (size_t)(srcend - src);
	if (ct_dump_file_line(src, sn, &flen, &f->line))
		return ct_dump_set(c, &f->file, src, flen);
	if (sn == 13 && memcmp(src, "Native Method", 13) == 0)
		return 0;
	if (sn == 14 && memcmp(src, "Unknown Source", 14) == 0)
		return 0;
	return ct_dump_set(c, &f->file, src, sn);
}

static int lock_line(struct ct_dump_ctx *c, const char *s)
{
	struct ct_thread *t = c->thread;
	if (!t)
		return ct_dump_fail(c, "jstack lock line ('- …') before any thread line");
	const char *p = s + 3; /* after "\t- " */
	if (c->owned_syncs)
		return ct_startswith(p, "None") ? 0 : add_held(c, p);
	if (ct_startswith(p, "locked "))
		return add_held(c, p);
	if (ct_startswith(p, "waiting to lock ") || ct_startswith(p, "parking to wait for ") ||
	    ct_startswith(p, "waiting to re-lock in wait() ")) {
		int err = lock_id(c, p, &t->lock_waiting);
		if (err < 0)
			return err;
		if ((err = ct_dump_set(c, &t->waiting_on, p, strlen(p))) < 0)
			return err;
		char *w = t->waiting_on, *d = w; /* "parking to wait for  <…>": one space */
		for (; *w; w++)
			if (!(w[0] == ' ' && w[1] == ' '))
				*d++ = *w;
		*d = '\0';
		return 0;
	}
	if (ct_startswith(p, "waiting on ")) {
		int err = lock_id(c, p, &c->waited_obj);
		if (err < 0)
			return err;
		if (!t->waiting_on)
			return ct_dump_set(c, &t->waiting_on, p, strcspn(p, ">") + (strchr(p, '>') ? 1 : 0));
	}
	return 0; /* "eliminated", "waiting on <no object reference available>", … */
}

static uint64_t parse_timestamp(const char *s, size_t n)
{
	if (n != 19 || !isdigit((unsigned char)s[0]) || s[4] != '-' || s[10] != ' ')
		return 0;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *e = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!e || *e)
		return 0;
	time_t t = timegm(&tm);
	return t > 0 ? (uint64_t)t * 1000000000ull : 0;
}

void ct_dump_jstack_preamble(struct ct_dump_ctx *c, const char *s, size_t n)
{
	uint64_t v;
	const char *p = s;
	if (n == 19 && (v = parse_timestamp(s, n)))
		c->pending_ts = v;
	else if (n >= 2 && s[n - 1] == ':' && ct_dump_num(&p, &v) && p == s + n - 1 && v <= 0x7fffffff)
		c->pending_pid = (pid_t)v; /* jcmd PID Thread.print starts with "PID:" */
}

int ct_dump_jstack_line(struct ct_dump_ctx *c, char *s, size_t n)
{
	if (c->skip) { /* the JVM's deadlock summary, until "Found N deadlock(s)." */
		if (ct_startswith(s, "Found ") && strstr(s, " deadlock") && s[n - 1] == '.')
			c->skip = false;
		return 0;
	}
	if (ct_startswith(s, "Full thread dump")) {
		thread_done(c);
		struct ct_snapshot *snap = ct_dump_snapshot(c);
		if (!snap)
			return -CT_EBADDUMP;
		snap->timestamp_ns = c->pending_ts;
		snap->pid = c->pending_pid;
		c->pending_ts = 0;
		c->pending_pid = 0;
		return 0;
	}
	if (s[0] == '"' && (strstr(s, " nid=") || strstr(s, " prio=") || strstr(s, " tid=")))
		return header_line(c, s);
	if (ct_startswith(s, "\tat ") && !c->thread)
		return 0; /* an exception trace in the log a kill -3 dump went to */
	if (ct_startswith(s, "\tat "))
		return frame_line(c, s, n);
	if (ct_startswith(s, "\t- "))
		return lock_line(c, s);
	if (ct_startswith(s, "   java.lang.Thread.State: "))
		return state_line(c, s + 27);
	if (ct_startswith(s, "   Locked ownable synchronizers:")) {
		c->owned_syncs = c->thread != NULL;
		return 0;
	}
	if (ct_startswith(s, "Found one Java-level deadlock") ||
	    (ct_startswith(s, "Found ") && strstr(s, "Java-level deadlocks"))) {
		thread_done(c);
		c->skip = true;
		return 0;
	}
	if (ct_startswith(s, "JNI global refs"))
		thread_done(c);
	else
		ct_dump_jstack_preamble(c, s, n);
	return 0;
}

int ct_dump_jstack_finish(struct ct_dump_ctx *c)
{
	thread_done(c);
	return 0;
}
