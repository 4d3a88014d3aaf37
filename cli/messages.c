/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/error.h"
#include "analyze/threads.h"
#include "session/snapshot.h"
#include "process/target.h"
#include "lib/banned.h"

/* all of p, resumed after a signal or a short write (a pipe's reader slower than ctrace) */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	struct ct_buf b = CT_BUF_INIT;
	ct_buf_puts(&b, prefix);
	ct_buf_vprintf(&b, fmt, ap);
	ct_buf_putc(&b, '\n');
	/* one write where the pipe takes it, so the line is not interleaved with the target's or
	 * another tool's output; the rest after a signal (SIGCHLD) or a full pipe, not dropped */
	fflush(stdout);
	if (!b.err)
		(void)write_all(STDERR_FILENO, b.data, b.len);
	ct_buf_free(&b);
}

void ct_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("ctrace: ", fmt, ap);
	va_end(ap);
}

void ct_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("ctrace: warning: ", fmt, ap);
	va_end(ap);
}

void ct_verbose(const struct ct_env *env, const char *fmt, ...)
{
	if (!env->verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg("ctrace: ", fmt, ap);
	va_end(ap);
}

int ct_cli_check_target(pid_t pid)
{
	struct ct_target t;
	int r = ct_target_open(pid, &t);
	switch (-r) {
	case 0:
		break;
	case ESRCH:
		ct_error("no process %d (it exited, or the PID is wrong; find it with 'pgrep NAME')", (int)pid);
		return CT_EXIT_TARGET;
	case EACCES:
	case EPERM: {
		char *why = ct_target_explain_eperm(pid);
		ct_error("cannot inspect process %d: %s", (int)pid, why ? why : "permission denied");
		free(why);
		return CT_EXIT_TARGET;
	}
	case CT_EZOMBIE:
		ct_error("process %d (%s) is a zombie: it has exited and waits for its parent to reap it; "
			 "there is no stack to capture", (int)pid, t.comm ? t.comm : "?");
		ct_target_clear(&t);
		return CT_EXIT_TARGET;
	case CT_EKTHREAD:
		ct_error("process %d (%s) is a kernel thread; ctrace inspects user-space processes "
			 "(its kernel stack is in /proc/%d/stack)", (int)pid, t.comm ? t.comm : "?", (int)pid);
		ct_target_clear(&t);
		return CT_EXIT_TARGET;
	case CT_ESELF:
		ct_error("process %d is this ctrace; give the PID of another process", (int)pid);
		ct_target_clear(&t);
		return CT_EXIT_USAGE;
	case CT_ETRACED:
		ct_error("process %d (%s) is already traced by %d (%s); a process has one tracer at a time: "
			 "detach that one (quit gdb, stop strace) and run ctrace again",
			 (int)pid, t.comm ? t.comm : "?", (int)t.tracer_pid,
			 t.tracer_comm ? t.tracer_comm : "?");
		ct_target_clear(&t);
		return CT_EXIT_TARGET;
	default:
		ct_error("cannot read /proc/%d: %s", (int)pid, ct_strerror(r));
		return CT_EXIT_TARGET;
	}
	ct_target_clear(&t);
	return CT_EXIT_OK;
}

static bool is_device(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* Creates PATH.ctrace-tmp.PID beside path (its name in *tmp), for a write then a rename. Says why it
 * cannot and returns -1. */
static int open_temp(const char *path, struct ct_buf *tmp)
{
	ct_buf_printf(tmp, "%s.ctrace-tmp.%d", path, (int)getpid());
	int fd = open(ct_buf_cstr(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		ct_error("cannot write to '%s': %s; choose another -o path", path, strerror(errno));
		ct_buf_free(tmp);
	}
	return fd;
}

int ct_cli_write_output(const struct ct_env *env, const struct ct_buf *out)
{
	if (out->err) {
		ct_error("out of memory while writing the report");
		return CT_EXIT_TARGET;
	}
	const char *data = out->data ? out->data : "";
	if (!env->output || strcmp(env->output, "-") == 0) {
		int r = write_all(STDOUT_FILENO, data, out->len);
		if (r < 0 && r != -EPIPE) {
			ct_error("cannot write the report to standard output: %s", strerror(-r));
			return CT_EXIT_TARGET;
		}
		return CT_EXIT_OK;
	}
	/* A temporary file beside the target, created exclusively (no planted symlink is followed),
	 * then renamed over it: a crash never leaves half a report, and rename replaces a symlink at
	 * the path rather than writing through it. */
	struct stat st;
	if (stat(env->output, &st) == 0 && S_ISDIR(st.st_mode)) {
		ct_error("cannot write to '%s': it is a directory; give a file name with -o", env->output);
		return CT_EXIT_USAGE;
	}
	/* A device or a pipe (-o /dev/null, a FIFO a reader waits on) is written to, never replaced. */
	if (is_device(env->output)) {
		int fd = open(env->output, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		int r = fd < 0 ? -errno : write_all(fd, data, out->len);
		if (fd >= 0 && close(fd) < 0 && r == 0)
			r = -errno;
		if (r < 0 && r != -EPIPE) {
			ct_error("cannot write to '%s': %s", env->output, strerror(-r));
			return CT_EXIT_TARGET;
		}
		return CT_EXIT_OK;
	}
	struct ct_buf tmp = CT_BUF_INIT;
	int fd = open_temp(env->output, &tmp);
	if (fd < 0)
		return CT_EXIT_USAGE;
	int r = write_all(fd, data, out->len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(ct_buf_cstr(&tmp), env->output) < 0)
		r = -errno;
	if (r < 0) {
		unlink(ct_buf_cstr(&tmp));
		ct_error("cannot write to '%s': %s", env->output, strerror(-r));
		ct_buf_free(&tmp);
		return CT_EXIT_TARGET;
	}
	ct_buf_free(&tmp);
	return CT_EXIT_OK;
}

int ct_cli_check_output(const struct ct_env *env)
{
	if (!env->output || strcmp(env->output, "-") == 0)
		return CT_EXIT_OK;
	struct stat st;
	if (stat(env->output, &st) == 0 && S_ISDIR(st.st_mode)) {
		ct_error("cannot write to '%s': it is a directory; give a file name with -o", env->output);
		return CT_EXIT_USAGE;
	}
	if (is_device(env->output))
		return CT_EXIT_OK; /* written to, never replaced (ct_cli_write_output) */
	struct ct_buf probe = CT_BUF_INIT;
	int fd = open_temp(env->output, &probe);
	if (fd < 0)
		return CT_EXIT_USAGE;
	close(fd);
	unlink(ct_buf_cstr(&probe));
	ct_buf_free(&probe);
	return CT_EXIT_OK;
}

int ct_cli_open_snapshot_session(pid_t pid, const struct ct_snapshot_opts *o, struct ct_snapshot_session **ret)
{
	int r = ct_snapshot_session_open(pid, o, ret);
	if (r == 0)
		return CT_EXIT_OK;
	if (r == -ESRCH) {
		ct_error("process %d exited before it could be captured", (int)pid);
	} else if (r == -EACCES || r == -EPERM) {
		char *why = ct_target_explain_eperm(pid);
		ct_error("cannot inspect process %d: %s", (int)pid, why ? why : "permission denied");
		free(why);
	} else {
		ct_error("cannot read the memory map of process %d: %s", (int)pid, ct_strerror(r));
	}
	return CT_EXIT_TARGET;
}

int ct_cli_open_core_session(const struct ct_env *env, const struct ct_snapshot_opts *o,
			     struct ct_snapshot_session **ret)
{
	char *why = NULL;
	int r = ct_snapshot_session_open_core(env->core, o, ret, &why);
	if (r == 0)
		return CT_EXIT_OK;
	ct_error("%s: %s", env->core, why ? why : ct_strerror(r));
	free(why);
	return r == -ENOEXEC ? CT_EXIT_USAGE : CT_EXIT_TARGET;
}

int ct_cli_capture_error(pid_t pid, int r)
{
	if (r == -ESRCH) {
		ct_error("process %d exited before it could be captured", (int)pid);
	} else if (r == -EPERM) {
		char *why = ct_target_explain_eperm(pid);
		ct_error("cannot inspect process %d: %s", (int)pid, why ? why : "permission denied");
		free(why);
	} else if (r == -ENOMEM) {
		ct_error("out of memory while capturing process %d", (int)pid);
	} else {
		ct_error("capture of process %d failed: %s", (int)pid, ct_strerror(r));
	}
	return CT_EXIT_TARGET;
}

int ct_cli_write_analysis(const struct ct_env *env, const struct ct_analysis *a)
{
	struct ct_buf out = CT_BUF_INIT;
	if (env->format == CT_FMT_JSON)
		ct_report_analysis_json(a, &out);
	else
		ct_report_analysis_text(a, &out);
	int code = ct_cli_write_output(env, &out);
	ct_buf_free(&out);
	return code;
}

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
	*stop_flag = sig;
}

static void catch_signal(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: poll and nanosleep return at once */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

void ct_cli_catch_stop(volatile sig_atomic_t *flag)
{
	stop_flag = flag;
	catch_signal(SIGINT);
	catch_signal(SIGTERM);
	signal(SIGPIPE, SIG_IGN);
}

void ct_cli_catch_stop_hangup(volatile sig_atomic_t *flag)
{
	ct_cli_catch_stop(flag);
	catch_signal(SIGHUP);
}
